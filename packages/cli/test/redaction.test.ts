import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_API_VERSION, REDACTED } from '@capi-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIXEL, type RunResult, runBin, startCliMock, stopCliMock } from './helpers.js';

// A Graph stand-in that echoes the token it was sent back in every place Meta's answers can carry
// text: error.message ("Malformed access token <token>", code 190), error_user_msg,
// error_user_title, a non-JSON (HTML) page, the WWW-Authenticate header and a redirect Location,
// raw, URL-encoded and as `access_token=…`. Whatever the CLI prints must hold none of it.

/** A token as Meta issues them (letters and digits only). */
const PLAIN_TOKEN = 'EAABplainSecretCOREzx81q7w9e3r5t';
/** A token full of characters that mean something to regexes, URLs, JSON and HTML. */
const SPECIAL_TOKEN = String.raw`EAAB.+*?^$(sec)[RET]{2}|\/~!'"&<x>=%41#core`;

/** Every way the token can be spelled in output: raw, URL-encoded, form-encoded, JSON, HTML. */
const spellings = (token: string): string[] => [
  token,
  encodeURIComponent(token),
  new URLSearchParams({ t: token }).toString().slice(2),
  JSON.stringify(token).slice(1, -1),
  token
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;'),
];

/** Fragments of the token long enough to identify it, so a half-redacted token also fails. */
const fragments = (token: string): string[] => {
  const out: string[] = [];
  for (let i = 0; i + 10 <= token.length; i += 5) out.push(token.slice(i, i + 10));
  return out;
};

const expectNoToken = (result: Pick<RunResult, 'stdout' | 'stderr'>, token: string): void => {
  const printed = `${result.stdout}\n${result.stderr}`;
  for (const text of [...spellings(token), ...fragments(token)]) {
    expect(printed, `printed output contains ${JSON.stringify(text)}`).not.toContain(text);
  }
};

type Shape =
  | 'message'
  | 'error_user_msg'
  | 'error_user_title'
  | 'url-encoded'
  | 'html'
  | 'redirect'
  | 'portal-redirect';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const graphError = (token: string, error: Record<string, unknown>): Answer => ({
  status: 400,
  headers: {
    'content-type': 'application/json',
    // Meta sends this with 190s; the CLI does not print headers, but it must not matter if it did.
    'www-authenticate': `OAuth "Facebook Platform" "invalid_token" "Malformed access token ${token}"`,
  },
  body: JSON.stringify({
    error: { type: 'OAuthException', code: 190, fbtrace_id: 'AtraceREDACTtest', ...error },
  }),
});

const answer = (shape: Shape, token: string): Answer => {
  switch (shape) {
    case 'message':
      return graphError(token, { message: `Malformed access token ${token}` });
    case 'error_user_msg':
      return graphError(token, {
        message: 'Invalid OAuth access token - Cannot parse access token',
        error_subcode: 463,
        error_user_title: 'Token problem',
        error_user_msg: `The access token ${token} could not be decrypted`,
      });
    case 'error_user_title':
      return graphError(token, {
        message: 'Invalid OAuth access token - Cannot parse access token',
        error_user_title: `Malformed access token ${token}`,
        error_user_msg: 'Generate a new token in Events Manager',
      });
    case 'url-encoded': {
      const encoded = encodeURIComponent(token);
      return graphError(token, {
        message: `Malformed access token ${encoded} in https://graph.facebook.com/v25.0/me?access_token=${encoded}&fields=id`,
      });
    }
    case 'html':
      // A proxy's error page: 403 is an auth failure for the client, so upload stops at once.
      return {
        status: 403,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: `<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>Token ${token} is not allowed here (access_token=${encodeURIComponent(token)})</p></body></html>`,
      };
    case 'redirect':
      return {
        status: 302,
        headers: {
          location: `https://graph.example/v25.0/me?access_token=${new URLSearchParams({ t: token }).toString().slice(2)}`,
        },
        body: '',
      };
    case 'portal-redirect':
      // A login portal in front of Graph: its session, a signed return URL holding the request
      // (the token encoded once more, a spelling the redaction does not know), credentials.
      return {
        status: 302,
        headers: {
          location: `https://sso-user:sso-Pa55word@sso.example/login?session=S3SSIONsecret42&next=${encodeURIComponent(`/v25.0/me?access_token=${encodeURIComponent(token)}`)}#state=S7ATEsecret`,
        },
        body: '',
      };
  }
};

/** What Meta's text must still say, with the token replaced by the marker. */
const useful: Record<Shape, string[]> = {
  message: ['190', `Malformed access token ${REDACTED}`, 'AtraceREDACTtest'],
  error_user_msg: [
    '190/463',
    'Token problem',
    `The access token ${REDACTED} could not be decrypted`,
  ],
  error_user_title: ['190', `Malformed access token ${REDACTED}`, 'Generate a new token'],
  'url-encoded': ['190', `Malformed access token ${REDACTED} in https://graph.facebook.com`],
  html: ['403', 'Forbidden', `Token ${REDACTED} is not allowed here`],
  redirect: ['302', 'redirect to https://graph.example/v25.0/me (not followed'],
  'portal-redirect': ['302', 'redirect to https://sso.example/login (not followed'],
};

/** What upload can say: it only sees Meta's error fields and the status through the client. */
const usefulForUpload: Record<Shape, string[]> = { ...useful, html: ['403'] };

let server: Server;
let url: string;
let shape: Shape = 'message';
/** Tokens the stand-in received, to prove the token really reached it (and so could be echoed). */
const received: string[] = [];

const readBody = async (req: IncomingMessage): Promise<string> => {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
};

const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const text = await readBody(req);
  const bearer = /^Bearer (.*)$/s.exec(req.headers.authorization ?? '')?.[1];
  let token = bearer;
  if (token === undefined && text) {
    try {
      token = (JSON.parse(text) as { access_token?: string }).access_token;
    } catch {}
  }
  token ??= '';
  received.push(token);
  const a = answer(shape, token);
  res.writeHead(a.status, a.headers);
  res.end(a.body);
};

let dir: string;
let csv: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'capi-kit-redact-'));
  csv = join(dir, 'orders.csv');
  const t = Math.floor(Date.now() / 1000) - 3600;
  writeFileSync(
    csv,
    `email,event_time,order_id,value,currency\na@example.com,${t},o-1,5,EUR\nb@example.com,${t},o-2,7,EUR\n`,
  );
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const env = (token: string) => ({
  META_GRAPH_URL: url,
  META_ACCESS_TOKEN: token,
  META_PIXEL_ID: PIXEL,
  META_TEST_EVENT_CODE: 'TEST4242',
});

const COMMANDS = [
  { name: 'doctor', args: ['doctor'], json: false, upload: false },
  { name: 'doctor --json', args: ['doctor', '--json'], json: true, upload: false },
  { name: 'send-test', args: ['send-test'], json: false, upload: false },
  { name: 'send-test --json', args: ['send-test', '--json'], json: true, upload: false },
  { name: 'upload', args: ['upload'], json: false, upload: true },
  { name: 'upload --json', args: ['upload', '--json'], json: true, upload: true },
] as const;

const SHAPES: Shape[] = [
  'message',
  'error_user_msg',
  'error_user_title',
  'url-encoded',
  'html',
  'redirect',
];

describe.each([
  ['a plain token', PLAIN_TOKEN],
  ['a token with regex, URL, JSON and HTML special characters', SPECIAL_TOKEN],
])('with %s, Graph echoing it', (_label, token) => {
  describe.each(SHAPES)('in the %s', (s) => {
    // A redirect is retried by upload with backoff (it is transient for the client); the other
    // commands cover it.
    const commands = COMMANDS.filter((c) => !(c.upload && s === 'redirect'));
    it.each(commands)('$name prints Meta’s answer without the token', async (command) => {
      shape = s;
      received.length = 0;
      const args = command.upload ? [...command.args, csv] : command.args;
      const result = await runBin(args, env(token), { cwd: dir });
      expect(received.length).toBeGreaterThan(0);
      expect(received.every((r) => r === token)).toBe(true);
      expectNoToken(result, token);
      // Every command fails on a refused token with 1, as documented (exit-codes.ts).
      expect(result.code).toBe(1);
      const printed = `${result.stdout}${result.stderr}`;
      for (const text of (command.upload ? usefulForUpload : useful)[s]) {
        expect(printed).toContain(command.json ? JSON.stringify(text).slice(1, -1) : text);
      }
      if (command.json) expect(() => JSON.parse(result.stdout)).not.toThrow();
    });
  });
});

describe('a redirect to a login portal', () => {
  // The redirect's target is told without its query, fragment or credentials, as the core's
  // delivery errors tell it: a session or a signed return URL is no business of the terminal's.
  it.each(COMMANDS.filter((c) => !c.upload))(
    '$name says where it pointed, nothing more',
    async (command) => {
      shape = 'portal-redirect';
      const result = await runBin(command.args, env(SPECIAL_TOKEN));
      expect(result.code).toBe(1);
      const printed = `${result.stdout}${result.stderr}`;
      expect(printed).toContain(useful['portal-redirect'][1]);
      for (const secret of [
        'S3SSIONsecret42',
        'S7ATEsecret',
        'sso-Pa55word',
        'sso-user',
        'next=',
      ]) {
        expect(printed).not.toContain(secret);
      }
      expectNoToken(result, SPECIAL_TOKEN);
      expectNoToken(result, encodeURIComponent(encodeURIComponent(SPECIAL_TOKEN)));
    },
  );
});

describe('an exception that quotes the token', () => {
  it('is printed without it (a token with a line break makes fetch throw with the header value)', async () => {
    const token = 'EAABfirstHalfSECRET\nsecondHalfSECRETxyz';
    for (const args of [['doctor'], ['doctor', '--json']]) {
      const result = await runBin(args, env(token));
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('invalid header value');
      expect(result.stderr).toContain(REDACTED);
      expectNoToken(result, token);
      expect(result.stdout + result.stderr).not.toContain('firstHalfSECRET');
      expect(result.stdout + result.stderr).not.toContain('secondHalfSECRET');
    }
  });
});

describe('capi-kit mock', () => {
  // The mock prints a line per request with the Graph error it answered. A fault scripted to echo
  // the token, as Meta's 190 does, reaches the terminal worded like every command's Graph errors
  // (graph-request.ts) and redacted like all their output.
  const MOCK_SHAPES = ['message', 'error_user_msg', 'error_user_title', 'url-encoded'] as const;

  it.each([
    ['a plain token', PLAIN_TOKEN],
    ['a token with special characters', SPECIAL_TOKEN],
  ])('prints the Graph errors it answers without %s', async (_label, token) => {
    const mock = await startCliMock([], { META_ACCESS_TOKEN: token });
    const json = { 'content-type': 'application/json' };
    try {
      const url = mock.env.META_GRAPH_URL as string;
      for (const s of MOCK_SHAPES) {
        const { error } = JSON.parse(answer(s, token).body) as { error: Record<string, unknown> };
        const fault = {
          kind: 'graph',
          code: error.code,
          subcode: error.error_subcode,
          message: error.message,
          userTitle: error.error_user_title,
          userMessage: error.error_user_msg,
        };
        const scripted = await fetch(`${url}/_mock/faults`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ fault }),
        });
        expect(scripted.status).toBe(200);
        const res = await fetch(`${url}/${DEFAULT_API_VERSION}/${PIXEL}/events`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ data: [], access_token: token }),
        });
        expect(res.status).toBe(400);
        expect(await res.text()).toContain('"code":190');
      }
      const deadline = Date.now() + 10_000;
      while (!mock.output().includes(`#${MOCK_SHAPES.length - 1} POST`)) {
        if (Date.now() > deadline) throw new Error(`no request lines: ${mock.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      expect(await stopCliMock(mock.child)).toBe(0);
    }
    expectNoToken({ stdout: mock.output(), stderr: mock.errors() }, token);
    for (const s of MOCK_SHAPES) {
      // The mock makes up its own fbtrace_id.
      for (const text of useful[s].filter((t) => t !== 'AtraceREDACTtest')) {
        expect(mock.output()).toContain(text);
      }
    }
  });
});

it('covers every command the CLI has', async () => {
  const help = await runBin(['--help']);
  const section = help.stdout.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
  const commands = section.split('\n').map((line) => line.trim().split(/\s+/)[0]);
  expect(commands.length).toBeGreaterThan(3);
  expect(new Set(commands)).toEqual(new Set([...COMMANDS.map((c) => c.args[0]), 'mock']));
});
