import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'tsdown';
import { expect, it } from 'vitest';
import config from '../tsdown.config.ts';

const LIMIT = 2048;

it(`the ESM bundle stays under ${LIMIT} bytes min+gzip`, async () => {
  // The shipped build, minified the way an app's bundler would, in memory.
  const [bundle] = await build({
    ...(Array.isArray(config) ? config[0] : config),
    config: false,
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    dts: false,
    minify: true,
    write: false,
    clean: false,
    logLevel: 'silent',
  });
  const chunks = bundle!.chunks.filter((chunk) => chunk.type === 'chunk');
  expect(chunks).toHaveLength(1);
  // Self-contained: the standard-event list comes from the core's source at build time, and
  // nothing (the core included) is loaded at run time.
  expect(chunks[0]!.imports).toEqual([]);
  const code = chunks[0]!.code;
  const gzipped = gzipSync(code, { level: 9 }).length;
  console.log(`@capi-kit/browser: ${code.length} B minified, ${gzipped} B min+gzip`);
  expect(gzipped).toBeLessThan(LIMIT);
}, 30_000);
