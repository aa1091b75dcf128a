import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type GraphErrorAnswer, graphErrorAnswer, invalidToken } from './graph-error.js';

/** Where an access token was found on a request. */
export type TokenSource = 'body' | 'header' | 'query';

/** The tokens a request carries, by place. Kept only while answering; never recorded. */
export interface RequestCredentials {
  tokens: { source: TokenSource; value: string }[];
  hasAuthorizationHeader: boolean;
  appsecretProof: string | undefined;
}

const nonEmpty = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

/**
 * Graph accepts the token as `access_token` in the body or the query string, or as an
 * `Authorization: Bearer …` (or `OAuth …`) header (reference §1).
 */
export const readCredentials = (
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  body: Record<string, unknown>,
): RequestCredentials => {
  const tokens: RequestCredentials['tokens'] = [];
  const fromBody = nonEmpty(body.access_token);
  if (fromBody) tokens.push({ source: 'body', value: fromBody });
  const authorization = headers.authorization;
  const fromHeader = authorization
    ? /^(?:Bearer|OAuth)\s+(\S+)\s*$/i.exec(authorization)?.[1]
    : undefined;
  if (fromHeader) tokens.push({ source: 'header', value: fromHeader });
  const fromQuery = nonEmpty(query.get('access_token'));
  if (fromQuery) tokens.push({ source: 'query', value: fromQuery });
  return {
    tokens,
    hasAuthorizationHeader: authorization !== undefined,
    appsecretProof: nonEmpty(body.appsecret_proof) ?? nonEmpty(query.get('appsecret_proof')),
  };
};

/** HMAC-SHA256(appSecret, token) in hex, as the Node SDK computes `appsecret_proof`. */
export const appsecretProof = (appSecret: string, token: string): string =>
  createHmac('sha256', appSecret).update(token).digest('hex');

const sameString = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** The 190/100 answer for bad credentials, or `undefined` when they pass. */
export const checkCredentials = (
  credentials: RequestCredentials,
  expected: { accessToken?: string | undefined; appSecret?: string | undefined },
): GraphErrorAnswer | undefined => {
  const [first] = credentials.tokens;
  if (!first) return invalidToken('An access token is required to request this resource.');
  const distinct = new Set(credentials.tokens.map((t) => t.value));
  if (distinct.size > 1) {
    return invalidToken(
      `Conflicting access tokens in ${credentials.tokens.map((t) => t.source).join(' and ')}.`,
    );
  }
  if (expected.accessToken !== undefined && !sameString(first.value, expected.accessToken)) {
    return invalidToken('Invalid OAuth access token - Cannot parse access token');
  }
  if (expected.appSecret !== undefined) {
    const proof = credentials.appsecretProof;
    if (proof === undefined) {
      return graphErrorAnswer(400, {
        message: 'API calls from the server require an appsecret_proof argument',
        type: 'GraphMethodException',
        code: 100,
        is_transient: false,
      });
    }
    if (!sameString(proof.toLowerCase(), appsecretProof(expected.appSecret, first.value))) {
      return graphErrorAnswer(400, {
        message: 'Invalid appsecret_proof provided in the API argument',
        type: 'GraphMethodException',
        code: 100,
        is_transient: false,
      });
    }
  }
  return undefined;
};
