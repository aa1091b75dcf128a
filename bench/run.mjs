#!/usr/bin/env node
// `npm run bench`: every bench, one table each, then bench/RESULTS.md (RESULTS.quick.md with
// --quick). `--only=track,build` runs some of them. Not part of `npm test`.
// To add a bench: import its function and add one line to BENCHES.
import { readFileSync, writeFileSync } from 'node:fs';
import { benchBuild } from './build.mjs';
import { benchFootprint } from './footprint.mjs';
import { benchArgs, resultsMarkdown } from './lib.mjs';
import { benchMiddleware } from './middleware.mjs';
import { benchOutage } from './outage.mjs';
import { benchOutbox } from './outbox.mjs';
import { benchRequestPath } from './request-path.mjs';
import { benchThroughput } from './throughput.mjs';
import { benchTrack } from './track.mjs';

const BENCHES = [
  ['track', benchTrack],
  ['build', benchBuild],
  ['throughput', benchThroughput],
  ['request-path', benchRequestPath],
  ['middleware', benchMiddleware],
  ['outage', benchOutage],
  ['outbox', benchOutbox],
  ['footprint', benchFootprint],
];

const args = benchArgs();
const started = performance.now();
for (const [name, bench] of BENCHES) {
  if (args.only && !args.only.includes(name)) continue;
  console.log(`\n=== ${name}`);
  await bench({ quick: args.quick });
}
const seconds = (performance.now() - started) / 1000;
console.log(`\nAll benches: ${Math.round(seconds)} s`);

if (!args.only) {
  const file = new URL(args.quick ? './RESULTS.quick.md' : './RESULTS.md', import.meta.url);
  let previous = '';
  try {
    previous = readFileSync(file, 'utf8');
  } catch {}
  const command = `npm run bench${args.quick ? ' -- --quick' : ''}`;
  writeFileSync(file, resultsMarkdown({ previous, command, seconds }));
  console.log(`Wrote ${file.pathname}`);
}
