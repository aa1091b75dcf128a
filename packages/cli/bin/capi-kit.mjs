#!/usr/bin/env node
// The `capi-kit` command. It is a file of the source tree, not of dist/, so that `npm ci` in a
// fresh clone of the capi-kit repository links the command although nothing is built yet (npm
// links no bin whose file is missing, and `npx capi-kit` would then look for it on the registry);
// it runs the built CLI.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.mjs', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'capi-kit: @capi-kit/cli is not built yet; run `npx turbo run build --filter=@capi-kit/cli` at the repository root.\n',
  );
  process.exitCode = 1;
}
