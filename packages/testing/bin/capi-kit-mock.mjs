#!/usr/bin/env node
// The `capi-kit-mock` command. It is a file of the source tree, not of dist/, so that `npm ci` in
// a fresh clone of the capi-kit repository links the command although nothing is built yet (npm
// links no bin whose file is missing); it then runs the built mock.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.mjs', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'capi-kit-mock: @capi-kit/testing is not built yet; run `npx turbo run build --filter=@capi-kit/testing` at the repository root.\n',
  );
  process.exitCode = 1;
}
