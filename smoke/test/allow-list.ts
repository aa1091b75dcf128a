/**
 * What each tarball may hold, file by file; `*` stands for the content hash of a shared chunk.
 * A file not listed (a test, a dead `bin.cjs`, a second copy of a build) fails the smoke test, and
 * so does a listed file that is missing (README, LICENSE, an entry point).
 */
const COMMON = ['LICENSE', 'README.md', 'package.json'];
const dual = (entry: string) =>
  ['mjs', 'cjs', 'd.mts', 'd.cts'].map((ext) => `dist/${entry}.${ext}`);
const chunk = (name: string) => [`dist/${name}-*.mjs`, `dist/${name}-*.cjs`];

export const ALLOWED_FILES: Record<string, string[]> = {
  '@capi-kit/browser': [...COMMON, ...dual('index')],
  '@capi-kit/cli': [
    ...COMMON,
    ...dual('index'),
    'bin/capi-kit.mjs',
    'dist/bin.mjs',
    ...chunk('cli'),
  ],
  '@capi-kit/core': [
    ...COMMON,
    ...dual('index'),
    // package.json `imports` `#platform`: SHA-256 by node:crypto, libphonenumber-js and tldts loaded
    // on first use (Node), or pure-JS SHA-256 and both imported statically (everywhere else).
    ...['node', 'web'].flatMap((rt) => [`dist/platform/${rt}.mjs`, `dist/platform/${rt}.cjs`]),
  ],
  '@capi-kit/express': [...COMMON, ...dual('index')],
  '@capi-kit/fastify': [...COMMON, ...dual('index')],
  '@capi-kit/nestjs': [...COMMON, ...dual('index')],
  '@capi-kit/next': [
    ...COMMON,
    ...dual('index'),
    ...dual('proxy'),
    ...dual('client'),
    ...chunk('request-scope'),
  ],
  '@capi-kit/outbox-bullmq': [...COMMON, ...dual('index')],
  '@capi-kit/outbox-sqlite': [...COMMON, ...dual('index')],
  // bin/ holds the command package.json `bin` names; it runs dist/bin.mjs (see the file).
  // adapter-kit is the conformance kit (`@capi-kit/testing/adapter-kit`), sharing the mock's chunk;
  // destination-kit the destinations' contract (`@capi-kit/testing/destination-kit`).
  '@capi-kit/testing': [
    ...COMMON,
    ...dual('index'),
    ...dual('adapter-kit'),
    ...dual('destination-kit'),
    'bin/capi-kit-mock.mjs',
    'dist/bin.mjs',
    ...chunk('mock-graph'),
  ],
  '@capi-kit/tiktok': [...COMMON, ...dual('index')],
};

/**
 * Unpacked size ceilings in bytes: the core ships its library once per format (the runtime's
 * SHA-256 is picked through package.json `imports`), not once per runtime and format. 937 KB in
 * December 2026 after the destinations seam (issue 23), about 1.00 MB after the delivery engine's
 * shutdown-ownership module and its documented fixes, 1.055 MB after the durable outbox's start-up
 * count (adopt.ts), the intake module and the outbox check at creation, 1.113 MB after the
 * twenty-sixth session's review fixes (the send gate, the trustProxy check, RFC 7239 `Forwarded`
 * scheme and host, normalization rules, CLDR country names), 1.21 MB after the twenty-eighth and
 * twenty-ninth sessions' review fixes (option checks, full-width text, the refused event's id), 1.31
 * MB after the thirty-first's (a Graph answer read within 1 MiB, Meta's blamed fields, the relay's
 * click IDs from the page, warnings for common mistakes), 1.41 MB after the thirty-fifth's (the
delivery pipe split into six modules, each with its own header, and the auth circuit's
generation); most of the growth is comments, kept in
 * the shipped code for whoever reads it in node_modules. Once per runtime it would be about 1.9
 * MB, which is what this ceiling is here to catch.
 */
export const MAX_UNPACKED_BYTES: Record<string, number> = {
  '@capi-kit/core': 1_500_000,
};

const toRegExp = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[A-Za-z0-9_-]+')}$`);

/** The files of `files` no pattern allows, and the patterns no file matches. */
export function compareWithAllowList(
  files: readonly string[],
  allowed: readonly string[],
): { unexpected: string[]; missing: string[] } {
  const patterns = allowed.map((pattern) => ({ pattern, regExp: toRegExp(pattern) }));
  return {
    unexpected: files.filter((file) => !patterns.some(({ regExp }) => regExp.test(file))),
    missing: patterns
      .filter(({ regExp }) => !files.some((f) => regExp.test(f)))
      .map((p) => p.pattern),
  };
}

/** Every file path package.json points at (main, module, types, bin, exports, imports, typesVersions). */
export function referencedFiles(manifest: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.startsWith('./')) found.add(value.slice(2));
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value)) walk(item);
    }
  };
  for (const key of ['main', 'module', 'types', 'bin', 'exports', 'imports', 'typesVersions']) {
    walk(manifest[key]);
  }
  return [...found];
}
