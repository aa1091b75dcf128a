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

/** A scripted fault applied to a request to the events endpoint. */
export type MockFault = HttpFault | GraphFault | LatencyFault | HangFault | ResetFault;

/** The kind of a {@link MockFault}. */
export type MockFaultKind = MockFault['kind'];

/**
 * What `failNext`/`outage` accept: a fault object, `'hang'`, `'reset'`, or an HTTP status number
 * (400–599, e.g. `503`). For a Graph error code use `{ kind: 'graph', code: 190 }`.
 */
export type MockFaultInput = MockFault | 'hang' | 'reset' | number;

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
  const kinds: readonly string[] = ['http', 'graph', 'latency', 'hang', 'reset'];
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

/** What to send for a fault. `proceed` means "answer normally" (latency only). */
export const answerForFault = (fault: MockFault): FaultAnswer => {
  switch (fault.kind) {
    case 'latency':
      return { action: 'proceed' };
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
        headers: { 'content-type': 'application/json; charset=UTF-8', ...commonHeaders(fault) },
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
          headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
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
  fault.kind === 'hang' ? 0 : (fault.latencyMs ?? 0);
