#!/usr/bin/env node
// `npm run bench`: every bench, one table each. Not part of `npm test`.
import { benchThroughput } from './throughput.mjs';
import { benchTrack } from './track.mjs';

await benchTrack();
await benchThroughput();
