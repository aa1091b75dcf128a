import { describeShutdownProcess } from '../../../scripts/test-support/shutdown-process.ts';

// The README's shutdown snippet in a real process: an open stream does not keep the app from
// exiting on SIGTERM or SIGINT, and what it tracked is delivered (scripts/test-support).
describeShutdownProcess({
  fixture: new URL('./processes/signal-stream.mjs', import.meta.url),
  snippet: new URL('./readme-snippets/shutdown.ts', import.meta.url),
  accessToken: 'EAAexpressstreamtoken',
});
