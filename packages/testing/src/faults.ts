import {
  defaultMessageForCode,
  type GraphError,
  graphErrorAnswer,
  httpStatusForCode,
  isTransientCode,
} from './graph-error.js';

/** Options every answered fault accepts. */
export interface FaultAnswerOptions {
  /** Wait this long before answering. */
  latencyMs?: number;
  /** Send `Retry-After: <seconds>`. */
  retryAfterSeconds?: number;
  /** Extra response headers, e.g. `x-business-use-case-usage`. */
  headers?: Record<string, string>;
}

/** Answer with an HTTP status and a body that is not necessarily Graph-shaped (a proxy's 503 page). */
export interface HttpFault extends FaultAnswerOptions {
  kind: 'http';
  /** HTTP status, 400–599. */
  status: number;
  /** Body style. Default: `graph` for 429 and 500, `html` otherwise. */
  body?: 'html' | 'graph' | 'text' | 'empty';
}

/** Answer with a Graph error object: any code, subcode and transience. */
export interface GraphFault extends FaultAnswerOptions {
  kind: 'graph';
  /** Graph error code, e.g. 1, 2, 4, 17, 100, 190, 200, 368, 613, 80004. */
  code: number;
  /** `error_subcode`. */
  subcode?: number;
  /** `is_transient`; defaults from the code (true for downtime and throttling codes). */
  isTransient?: boolean;
  /** `message`; defaults to Meta's usual text for the code. */
  message?: string;
  /** `type`; default `OAuthException`. */
  type?: string;
  /** `error_user_title`. */
  userTitle?: string;
  /** `error_user_msg`. */
  userMessage?: string;
  /** HTTP status; default 500 for codes 1/2, 403 for permission codes, 400 otherwise (as Meta). */
  status?: number;
}

/** Delay the normal answer. The events are validated and accepted on arrival, like Meta. */
export interface LatencyFault {
  kind: 'latency';
  /** Delay before answering. */
  latencyMs: number;
}

/** Never answer: the connection stays open until the client aborts or the mock closes. */
export interface HangFault {
  kind: 'hang';
}

/** Destroy the socket without answering (the client sees a reset / "socket hang up"). */
export interface ResetFault {
  kind: 'reset';
  /** Wait this long before destroying the socket. */
  latencyMs?: number;
}

/**
 * A 2xx answer that is not Meta's acknowledgement: what a captive portal, a misrouted proxy or a
 * wrong base URL sends. The request never reached "Meta", so its events are not recorded.
 */
export interface NonMetaSuccessFault extends FaultAnswerOptions {
  kind: 'non-meta-2xx';
  /**
   * `html`: a web page; `empty`: no body; `truncated`: Meta's acknowledgement cut off mid-JSON;
   * `empty-object`: `{}`; `text`: `OK` as plain text.
   */
  body: 'html' | 'empty' | 'truncated' | 'empty-object' | 'text';
  /** HTTP status, 200–299; default 200. */
  status?: number;
}

/**
 * Meta's acknowledgement with an `events_received` short of the events sent. The request is
 * checked and processed like any other; only its first `eventsReceived` events are recorded.
 */
export interface ShortAckFault {
  kind: 'short-ack';
  /** Events acknowledged and recorded; default one fewer than the request carried. */
  eventsReceived?: number;
}

/**
 * A redirect to another URL, e.g. another origin after a domain move or a misconfigured proxy.
 * The redirected request's events are not recorded: a client must not follow it (its token
 * travels in the body) nor count it as delivered.
 */
export interface RedirectFault extends FaultAnswerOptions {
  kind: 'redirect';
  /** 301, 302, 303, 307 or 308. */
  status: 301 | 302 | 303 | 307 | 308;
  /** The `Location` header, verbatim (an absolute URL such as a second server's events URL). */
  location: string;
}

/** A scripted fault applied to a request to the events endpoint. */
export type MockFault =
  | HttpFault
  | GraphFault
  | LatencyFault
  | HangFault
  | ResetFault
  | NonMetaSuccessFault
  | ShortAckFault
  | RedirectFault;

/** The kind of a {@link MockFault}. */
export type MockFaultKind = MockFault['kind'];

/**
 * What `failNext`/`outage` accept: a fault object, `'hang'`, `'reset'`, or an HTTP status number
 * (400–599, e.g. `503`). For a Graph error code use `{ kind: 'graph', code: 190 }`.
 */
export type MockFaultInput = MockFault | 'hang' | 'reset' | number;

const JSON_TYPE = 'application/json; charset=UTF-8';
const NON_META_BODIES = ['html', 'empty', 'truncated', 'empty-object', 'text'] as const;
const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

/** Turns shorthands into fault objects and rejects nonsense early, at the call site. */
export const normalizeFault = (input: MockFaultInput): MockFault => {
  if (input === 'hang') return { kind: 'hang' };
  if (input === 'reset') return { kind: 'reset' };
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 400 || input > 599) {
      throw new TypeError(
        `A number fault is an HTTP status between 400 and 599, got ${input}. For a Graph error code use { kind: 'graph', code: ${input} }.`,
      );
    }
    return { kind: 'http', status: input };
  }
  const kinds: readonly string[] = [
    'http',
    'graph',
    'latency',
    'hang',
    'reset',
    'non-meta-2xx',
    'short-ack',
    'redirect',
  ];
  if (typeof input !== 'object' || input === null || !kinds.includes(input.kind)) {
    throw new TypeError(
      `Unknown fault ${JSON.stringify(input)}: use a status number, 'hang', 'reset' or { kind: ${kinds.map((k) => `'${k}'`).join(' | ')} }.`,
    );
  }
  if (input.kind === 'graph' && !Number.isInteger(input.code)) {
    throw new TypeError(`A graph fault needs an integer code, got ${JSON.stringify(input.code)}.`);
  }
  if (
    input.kind === 'http' &&
    !(Number.isInteger(input.status) && input.status >= 400 && input.status <= 599)
  ) {
    throw new TypeError(`An http fault needs a status between 400 and 599, got ${input.status}.`);
  }
  if (input.kind === 'non-meta-2xx') {
    if (!(NON_META_BODIES as readonly unknown[]).includes(input.body)) {
      throw new TypeError(
        `A non-meta-2xx fault needs a body of ${NON_META_BODIES.join(', ')}, got ${JSON.stringify(input.body)}.`,
      );
    }
    const status = input.status ?? 200;
    if (!(Number.isInteger(status) && status >= 200 && status <= 299)) {
      throw new TypeError(
        `A non-meta-2xx fault needs a status between 200 and 299, got ${status}.`,
      );
    }
  }
  if (
    input.kind === 'short-ack' &&
    input.eventsReceived !== undefined &&
    !(Number.isInteger(input.eventsReceived) && input.eventsReceived >= 0)
  ) {
    throw new TypeError(
      `A short-ack fault needs a non-negative integer eventsReceived, got ${JSON.stringify(input.eventsReceived)}.`,
    );
  }
  if (input.kind === 'redirect') {
    if (!(REDIRECT_STATUSES as readonly unknown[]).includes(input.status)) {
      throw new TypeError(
        `A redirect fault needs a status of ${REDIRECT_STATUSES.join(', ')}, got ${input.status}.`,
      );
    }
    if (typeof input.location !== 'string' || input.location === '') {
      throw new TypeError('A redirect fault needs a location (the URL to redirect to).');
    }
  }
  return input;
};

/** The answer a fault produces once its latency has passed. */
export type FaultAnswer =
  | {
      action: 'respond';
      status: number;
      headers: Record<string, string>;
      body: string;
      error?: GraphError;
    }
  | { action: 'proceed' }
  | { action: 'acknowledge'; eventsReceived?: number }
  | { action: 'hang' }
  | { action: 'reset' };

const HTML_PAGE = (status: number) =>
  `<!DOCTYPE html><html><head><title>Error ${status}</title></head><body><h1>Sorry, something went wrong.</h1><p>Error ${status}</p></body></html>`;

const commonHeaders = (fault: FaultAnswerOptions): Record<string, string> => ({
  ...(fault.retryAfterSeconds === undefined
    ? {}
    : { 'retry-after': String(fault.retryAfterSeconds) }),
  ...fault.headers,
});

/**
 * What a proxy or portal answering 2xx in Meta's place sends. The truncated body is a real
 * acknowledgement cut off where a dropped connection or a body-size limit would cut it.
 */
const nonMetaBody = (
  body: NonMetaSuccessFault['body'],
  eventCount: number,
): { type?: string; text: string } => {
  switch (body) {
    case 'html':
      return {
        type: 'text/html; charset=utf-8',
        text: '<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body><form action="/login"></form></body></html>',
      };
    case 'empty':
      return { text: '' };
    case 'truncated':
      return {
        type: JSON_TYPE,
        text: `{"events_received":${eventCount},"messages":[],"fbtrace_id":"A`,
      };
    case 'empty-object':
      return { type: JSON_TYPE, text: '{}' };
    case 'text':
      return { type: 'text/plain', text: 'OK' };
  }
};

/**
 * What to send for a fault. `proceed` means "answer normally" (latency); `acknowledge` means
 * "process normally, but acknowledge and record only `eventsReceived` events" (short-ack).
 * `eventCount` (the events the request carried) makes a truncated acknowledgement look real.
 */
export const answerForFault = (fault: MockFault, eventCount = 0): FaultAnswer => {
  switch (fault.kind) {
    case 'latency':
      return { action: 'proceed' };
    case 'short-ack':
      return fault.eventsReceived === undefined
        ? { action: 'acknowledge' }
        : { action: 'acknowledge', eventsReceived: fault.eventsReceived };
    case 'non-meta-2xx': {
      const { type, text } = nonMetaBody(fault.body, eventCount);
      return {
        action: 'respond',
        status: fault.status ?? 200,
        headers: { ...(type ? { 'content-type': type } : {}), ...commonHeaders(fault) },
        body: text,
      };
    }
    case 'redirect':
      return {
        action: 'respond',
        status: fault.status,
        headers: {
          location: fault.location,
          'content-type': 'text/html; charset=utf-8',
          ...commonHeaders(fault),
        },
        body: `<html><body>Moved to <a href="${fault.location.replace(/[<>"&]/g, '')}">here</a></body></html>`,
      };
    case 'hang':
      return { action: 'hang' };
    case 'reset':
      return { action: 'reset' };
    case 'graph': {
      const { status, error } = graphErrorAnswer(fault.status ?? httpStatusForCode(fault.code), {
        message: fault.message ?? defaultMessageForCode(fault.code),
        type: fault.type ?? 'OAuthException',
        code: fault.code,
        ...(fault.subcode === undefined ? {} : { error_subcode: fault.subcode }),
        is_transient: fault.isTransient ?? isTransientCode(fault.code),
        ...(fault.userTitle === undefined ? {} : { error_user_title: fault.userTitle }),
        ...(fault.userMessage === undefined ? {} : { error_user_msg: fault.userMessage }),
      });
      return {
        action: 'respond',
        status,
        headers: { 'content-type': JSON_TYPE, ...commonHeaders(fault) },
        body: JSON.stringify({ error }),
        error,
      };
    }
    case 'http': {
      const style = fault.body ?? (fault.status === 429 || fault.status === 500 ? 'graph' : 'html');
      const headers = commonHeaders(fault);
      if (style === 'graph') {
        // A 429 from Meta's edge reads like an app-level throttle; a 5xx like downtime.
        const code = fault.status === 429 ? 4 : fault.status >= 500 ? 2 : 1;
        const { error } = graphErrorAnswer(fault.status, {
          message: defaultMessageForCode(code),
          type: 'OAuthException',
          code,
          is_transient: fault.status === 429 || fault.status >= 500,
        });
        return {
          action: 'respond',
          status: fault.status,
          headers: { 'content-type': JSON_TYPE, ...headers },
          body: JSON.stringify({ error }),
          error,
        };
      }
      if (style === 'html') {
        return {
          action: 'respond',
          status: fault.status,
          headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
          body: HTML_PAGE(fault.status),
        };
      }
      return {
        action: 'respond',
        status: fault.status,
        headers: style === 'text' ? { 'content-type': 'text/plain', ...headers } : headers,
        body: style === 'text' ? `Error ${fault.status}` : '',
      };
    }
  }
};

/** The delay a fault asks for before its answer (0 when none). */
export const faultLatency = (fault: MockFault): number =>
  fault.kind === 'hang' || fault.kind === 'short-ack' ? 0 : (fault.latencyMs ?? 0);
