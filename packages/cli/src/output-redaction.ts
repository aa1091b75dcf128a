import { createRedactor, type Redactor } from '@capi-kit/core';
import type { CliIo, OutputStream } from './terminal.js';

// The one place where the CLI keeps the access tokens out of what it prints. Graph echoes tokens
// back ("Malformed access token <token>", code 190), proxies echo them in HTML pages, fetch quotes
// header values in its exceptions; rather than redacting at each place such text is formatted
// (and missing the next one), every byte written to stdout and stderr passes through here.

/**
 * The ways a secret can be spelled in text we print: as is, URL-encoded (a query string Graph
 * quotes back), form-encoded, JSON-escaped (our own `--json` output re-escapes what Graph sent)
 * and HTML-escaped (an error page).
 */
const spellings = (secret: string): string[] => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ s: secret }).toString().slice(2),
  JSON.stringify(secret).slice(1, -1),
  secret
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;'),
];

/** The variables holding a platform's secret: never printed, in any spelling. */
const SECRET_VARIABLES = ['META_ACCESS_TOKEN', 'TIKTOK_ACCESS_TOKEN'] as const;

/**
 * The redactor for everything the CLI prints: `META_ACCESS_TOKEN` and `TIKTOK_ACCESS_TOKEN` (as
 * set and trimmed) in every spelling, plus anything shaped like a token (`access_token=…`,
 * `Bearer …`), replaced by the core's `[redacted]` marker. Tokens under 8 characters are only
 * caught by shape (the core's rule: replacing "dev" everywhere would shred the output; real Meta
 * and TikTok tokens are far longer).
 */
export const createOutputRedactor = (
  env: Readonly<Record<string, string | undefined>>,
): Redactor => {
  const secrets = SECRET_VARIABLES.flatMap((name) => {
    const token = env[name];
    return token === undefined ? [] : [token, token.trim()];
  });
  return createRedactor(secrets.flatMap(spellings));
};

// Each write is redacted on its own: the CLI writes whole lines (or one whole JSON document), so a
// token never straddles two writes.
const redactingStream = (stream: OutputStream, redact: Redactor): OutputStream => ({
  write: (chunk: string) => stream.write(redact(String(chunk))),
  get isTTY() {
    return stream.isTTY;
  },
  get columns() {
    return stream.columns;
  },
});

/** `io` with stdout and stderr passed through {@link createOutputRedactor}. */
export const withRedactedOutput = (io: CliIo): CliIo => {
  const redact = createOutputRedactor(io.env);
  return {
    ...io,
    stdout: redactingStream(io.stdout, redact),
    stderr: redactingStream(io.stderr, redact),
  };
};
