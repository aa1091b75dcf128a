/**
 * The README's shutdown snippet in a real process, shared by the adapters whose README has one
 * (imported by relative path; nothing here ships): a response that never ends (a server-sent
 * events stream) must not keep the app from exiting on SIGTERM (Docker, Kubernetes, systemd) or
 * SIGINT (PM2, Ctrl-C), and what it tracked is delivered.
 *
 * The fixture is a Node script taking the mock's URL as its argument, printing `{"url":…}` on its
 * first stdout line, serving `/stream` (tracks a ViewContent, writes, never ends) and running the
 * snippet's signal handling, from `const shutdown = ` to the end of the file, word for word.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { createInterface } from 'node:readline';
import { type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/** The signal handling of a file: from `const shutdown` to its end. */
const signalHandling = (file: URL): string => {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('const shutdown = ');
  if (start < 0) throw new Error(`no shutdown handler in ${file.pathname}`);
  return text.slice(start).trimEnd();
};

/** Declares the suite for one adapter's fixture process, its README snippet and the fixture's token. */
export function describeShutdownProcess(files: {
  fixture: URL;
  snippet: URL;
  accessToken: string;
}): void {
  let mock: MockGraph;
  beforeAll(async () => {
    mock = await startMockGraph({ accessToken: files.accessToken });
  });
  beforeEach(() => mock.reset());
  afterAll(() => mock.close());

  describe('the README shutdown snippet, in a real process', () => {
    it('is the handler the process below runs', () => {
      expect(signalHandling(files.fixture)).toBe(signalHandling(files.snippet));
    });

    it.each(['SIGTERM', 'SIGINT'] as const)(
      'exits on %s while a stream is open, and delivers what the stream tracked',
      async (sent) => {
        const child = spawn(process.execPath, [files.fixture.pathname, mock.url], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
          (resolve) => child.once('exit', (code, signal) => resolve({ code, signal })),
        );
        try {
          const lines = createInterface({ input: child.stdout });
          const { url } = JSON.parse(
            await new Promise<string>((resolve) => lines.once('line', resolve)),
          ) as { url: string };
          // The stream's first bytes: the event is tracked and the response stays open.
          const stream = await new Promise<IncomingMessage>((resolve, reject) => {
            const req = request(
              `${url}/stream`,
              { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' } },
              resolve,
            );
            req.on('error', reject);
            req.end();
          });
          stream.on('error', () => {}); // cut at the deadline
          await new Promise((resolve) => stream.once('data', resolve));
          expect(mock.events()).toHaveLength(0);

          const at = Date.now();
          child.kill(sent);
          const end = await Promise.race([
            exited,
            new Promise<'still running'>((resolve) =>
              setTimeout(() => resolve('still running'), 25_000),
            ),
          ]);
          expect(end).toEqual({ code: 0, signal: null });
          // The 10 s the snippet gives the stream, not the 25 s this test waits at most.
          expect(Date.now() - at).toBeLessThan(20_000);
          expect(mock.events().map((e) => e.event.event_name)).toEqual(['ViewContent']);
        } finally {
          child.kill('SIGKILL');
        }
      },
      60_000,
    );
  });
}
