import { describe, expect, it } from 'vitest';
import { createRedactor, describeError, REDACTED } from '../../src/delivery/redact.js';

const TOKEN = 'EAAGm0PX4ZCpsBAKZCZBsecretTOKENvalue1234567890';

describe('createRedactor', () => {
  const redact = createRedactor([TOKEN, undefined, 'appsecret-value-123']);

  it('removes the literal token wherever it appears', () => {
    expect(redact(`token ${TOKEN} and again ${TOKEN}.`)).toBe(
      `token ${REDACTED} and again ${REDACTED}.`,
    );
    expect(redact('secret appsecret-value-123!')).toBe(`secret ${REDACTED}!`);
  });

  it('removes token-shaped values it was not told about', () => {
    expect(redact('GET /v26.0/1/events?access_token=OTHERtoken&x=1')).toBe(
      `GET /v26.0/1/events?access_token=${REDACTED}&x=1`,
    );
    expect(redact('{"data":[],"access_token":"OTHER","appsecret_proof":"abc"}')).toBe(
      `{"data":[],"access_token":"${REDACTED}","appsecret_proof":"${REDACTED}"}`,
    );
    expect(redact('Authorization: Bearer abc.def-ghi_0123456789')).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
    expect(redact('header OAuth zzzzzzzzzzzzzzzzzzzz')).toBe(`header OAuth ${REDACTED}`);
  });

  it('a fetch error message that contains the token', () => {
    const error = new TypeError(
      `fetch failed: https://graph.facebook.com/v26.0/1/events?access_token=${TOKEN}`,
      {
        cause: new Error(`connect ECONNREFUSED (token ${TOKEN})`),
      },
    );
    const text = describeError(error, redact);
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('TypeError: fetch failed');
    expect(text).toContain('caused by: connect ECONNREFUSED');
  });

  it('a Graph error that echoes the token', () => {
    const message = `Invalid OAuth access token - Cannot parse access token: ${TOKEN}`;
    expect(redact(message)).toBe(
      `Invalid OAuth access token - Cannot parse access token: ${REDACTED}`,
    );
  });

  it('does not shred text for very short secrets, but still catches token shapes', () => {
    const weak = createRedactor(['x']);
    expect(weak('box access_token=x')).toBe(`box access_token=${REDACTED}`);
  });

  it('describes non-Error throwables', () => {
    expect(describeError('plain', redact)).toBe('plain');
    expect(describeError({ access_token: TOKEN }, redact)).not.toContain(TOKEN);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeError(circular, redact)).toBe('[object Object]');
    // A thrown value whose message, cause or prototype cannot be read is still described.
    const throwing = () => {
      throw new Error('getter');
    };
    const hostileMessage = Object.defineProperty(new Error('x'), 'message', { get: throwing });
    expect(describeError(hostileMessage, redact)).toBe(
      '(an error whose message could not be read)',
    );
    const hostileCause = Object.defineProperty(new Error('outer'), 'cause', { get: throwing });
    expect(describeError(hostileCause, redact)).toBe(
      'outer <- caused by: (an error whose message could not be read)',
    );
    const proxy = new Proxy({}, { getPrototypeOf: throwing });
    expect(describeError(proxy, redact)).toBe('(an error whose message could not be read)');
  });
});
