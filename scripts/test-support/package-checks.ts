/**
 * Checks every published package of this repository runs on itself, shared by their test suites
 * (imported by relative path; nothing here ships): the README's code blocks are the checked
 * snippet files and run as shown, and a consumer script runs against the built package on plain Node.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MockEvent, type MockGraph, startMockGraph } from '@capi-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PIXEL_ID, postJson, type TestServer } from './adapter-fixtures.ts';

/** The `<!-- snippet: file -->` code blocks of a README, as `[file, code]` in their order. */
export function readmeSnippets(readme: URL): [file: string, code: string][] {
  const text = readFileSync(readme, 'utf8');
  return [...text.matchAll(/<!-- snippet: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map((m) => [
    m[1] ?? '',
    m[2] ?? '',
  ]);
}

/**
 * Declares the README checks of the package whose test file is `testFile` (`import.meta.url`):
 * every file of `test/readme-snippets/` (which `tsc -p tsconfig.json` checks) is
 * shown verbatim under its `<!-- snippet: … -->` marker, nothing else is marked as a snippet, and
 * with `run`, the snippets work as shown (`META_*` pointing at a mock Graph API, see {@link mockGraphInEnv}).
 */
export function describeReadmeSnippets(
  testFile: string,
  run?: { title: string; test: (mock: MockGraph) => Promise<void> },
): void {
  const readme = new URL('../README.md', testFile);
  const snippetDir = new URL('./readme-snippets/', testFile);
  if (run !== undefined) {
    describe('README snippets run', () => {
      const mockGraph = mockGraphInEnv('readme-token');
      it(run.title, () => run.test(mockGraph()));
    });
  }
  describe('README', () => {
    const blocks = new Map(readmeSnippets(readme));
    const files = readdirSync(snippetDir).filter((f) => f.endsWith('.ts'));

    it('shows every snippet file, and nothing else as a snippet', () => {
      expect([...blocks.keys()].sort()).toEqual(files.sort());
    });

    it('has no TypeScript block that is not a checked snippet', () => {
      const text = readFileSync(readme, 'utf8');
      const tsBlocks = text.match(/^```tsx?\n/gm) ?? [];
      expect(tsBlocks.length).toBe(readmeSnippets(readme).length);
    });

    it.each(files)('%s is identical in the README', (file) => {
      expect(blocks.get(file)).toBe(readFileSync(new URL(file, snippetDir), 'utf8'));
    });
  });
}

/** Runs a consumer script with plain Node (the built package, as users get it) and parses what it printed. */
export function runConsumer(file: URL, env: Record<string, string>) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(file)], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${fileURLToPath(file)} exited with ${code}:\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

/**
 * Starts the mock Graph API for the enclosing suite and points `META_PIXEL_ID`,
 * `META_ACCESS_TOKEN` and `META_GRAPH_URL` at it while the suite runs, as an app's environment
 * would (README snippets read their credentials from there). Returns the running mock.
 */
function mockGraphInEnv(accessToken: string): () => MockGraph {
  let mock: MockGraph | undefined;
  beforeAll(async () => {
    mock = await startMockGraph();
    vi.stubEnv('META_PIXEL_ID', PIXEL_ID);
    vi.stubEnv('META_ACCESS_TOKEN', accessToken);
    vi.stubEnv('META_GRAPH_URL', mock.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await mock?.close();
  });
  return () => {
    if (mock === undefined) throw new Error('the mock Graph API is not running');
    return mock;
  };
}

/**
 * What an adapter's CommonJS consumer (`test/consumers/app.cjs`) must have done on each major it
 * ran (`out[major]`): answered a landing with `_fbp` and `_fbc`, accepted a `Lead`, and delivered
 * a `ViewContent` and the `Lead` per major with the proxied client IP and its user agent.
 */
export function expectConsumerTracked(
  out: Record<string, unknown>,
  majors: readonly string[],
  events: readonly MockEvent[],
): void {
  for (const major of majors) {
    expect(out[major]).toMatchObject({
      status: 200,
      cookies: [expect.stringMatching(/^_fbp=fb\.0\./), expect.stringMatching(/^_fbc=fb\.0\./)],
      body: { lead: { accepted: true } },
    });
  }
  expect(events.map((e) => e.event.event_name).sort()).toEqual(
    majors.flatMap(() => ['Lead', 'ViewContent']).sort(),
  );
  for (const { event } of events) {
    expect(event.user_data).toMatchObject({
      client_ip_address: '203.0.113.3',
      client_user_agent: 'cjs-consumer',
    });
  }
}

/** The export names of a package resolved by name (the built package, as users get it), sorted. */
export async function exportNames(specifier: string): Promise<string[]> {
  return Object.keys((await import(/* @vite-ignore */ specifier)) as object).sort();
}

/**
 * Declares the check that an adapter works from CommonJS: its consumer script (`require`) runs on
 * plain Node against the built package and a mock Graph API, see {@link expectConsumerTracked}.
 */
export function describeCommonJsConsumer(file: URL, majors: readonly string[]): void {
  describe('the built package from CommonJS', () => {
    let mock: MockGraph | undefined;
    beforeAll(async () => {
      mock = await startMockGraph();
    });
    afterAll(() => mock?.close());

    it(`works on ${majors.join(' and ')} (require)`, async () => {
      const url = mock?.url ?? '';
      const env = { META_PIXEL_ID: PIXEL_ID, META_ACCESS_TOKEN: 'cjs-token', META_GRAPH_URL: url };
      const out = await runConsumer(file, env);
      expectConsumerTracked(out, majors, mock?.events() ?? []);
    });
  });
}

/**
 * The README's lead form and checkout, posted as a visitor behind the loopback proxy: the `Lead`
 * answers its `event_id` (which it returns) and the checkout answers 201.
 */
export async function postLeadAndCheckout(server: TestServer): Promise<string> {
  const proxied = { 'x-forwarded-for': '203.0.113.8', 'user-agent': 'readme' };
  const lead = await postJson(server, '/lead', { email: 'lead@example.com' }, proxied);
  const { event_id } = (await lead.json()) as { event_id: string };
  const checkout = await postJson(server, '/checkout', { email: 'buyer@example.com' }, proxied);
  expect(checkout.status).toBe(201);
  return event_id;
}

/** What Meta got from {@link postLeadAndCheckout}: the `Lead` and the README's `Purchase` order-42. */
export function expectLeadAndPurchase(mock: MockGraph, leadId: string): void {
  expect(mock.events().map((e) => [e.event.event_name, e.event.event_id])).toEqual([
    ['Lead', leadId],
    ['Purchase', 'order-42'],
  ]);
  expect(mock.events()[1]?.event.custom_data).toMatchObject({ value: 59.9, currency: 'EUR' });
}
