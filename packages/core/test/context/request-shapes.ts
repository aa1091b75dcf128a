/**
 * One request description, two inputs: a Web `Request` and the Node shape an adapter builds from an
 * `IncomingMessage`. Every context test runs both and requires identical contexts.
 */
import { expect, vi } from 'vitest';
import { discardRandomPool } from '../../src/context/fb-cookies.js';
import {
  getRequestContext,
  type NodeRequestLike,
  type RequestContext,
  type RequestContextOptions,
} from '../../src/context/index.js';

export interface RequestSpec {
  /** Absolute URL as the browser sees it (the Node shape gets its path and a Host header). */
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** The socket peer: `options.remoteAddress` for the Request, `remoteAddress` for the Node shape. */
  remoteAddress?: string;
}

/** A fixed clock for every test: 2023-11-14T22:13:20Z. */
export const NOW = 1_700_000_000_000;

export function toWebRequest(spec: RequestSpec): Request {
  return new Request(spec.url, { method: spec.method ?? 'GET', headers: spec.headers ?? {} });
}

export function toNodeRequest(spec: RequestSpec): NodeRequestLike {
  const url = new URL(spec.url);
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(spec.headers ?? {}))
    headers[name.toLowerCase()] = value;
  const node: NodeRequestLike = {
    method: spec.method ?? 'GET',
    url: `${url.pathname}${url.search}`,
    headers,
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  };
  if (spec.remoteAddress !== undefined) node.remoteAddress = spec.remoteAddress;
  return node;
}

/** Makes `crypto.getRandomValues` deterministic so a minted `_fbp` is the same for both shapes. */
function withFixedRandom<T>(run: () => T): T {
  // Minted words come from a pool: empty it so the spy fills it, and again after.
  discardRandomPool();
  const spy = vi
    .spyOn(crypto, 'getRandomValues')
    .mockImplementation(<A extends ArrayBufferView | null>(array: A): A => {
      if (array instanceof Uint32Array) array.fill(0x9abcdef1);
      return array;
    });
  try {
    return run();
  } finally {
    spy.mockRestore();
    discardRandomPool();
  }
}

/**
 * The context of `spec` computed from both input shapes; fails the test unless they are equal.
 * `now` defaults to {@link NOW}.
 */
export function contextOf(spec: RequestSpec, options: RequestContextOptions = {}): RequestContext {
  const withClock: RequestContextOptions = { now: () => NOW, ...options };
  const fromWeb = withFixedRandom(() =>
    getRequestContext(
      toWebRequest(spec),
      spec.remoteAddress === undefined
        ? withClock
        : { remoteAddress: spec.remoteAddress, ...withClock },
    ),
  );
  const fromNode = withFixedRandom(() => getRequestContext(toNodeRequest(spec), withClock));
  expect(fromNode, 'Node-shaped request gives the same context as the Web Request').toEqual(
    fromWeb,
  );
  return fromWeb;
}

/** The `_fbp` value {@link contextOf} mints: random word 0x9abcdef1 masked to 31 bits. */
export const MINTED_RANDOM = 0x9abcdef1 & 0x7fffffff;
