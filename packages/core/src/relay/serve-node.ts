import type { RequestContext } from '../context/index.js';
import { fromIncomingMessage, type IncomingMessageLike } from '../context/index.js';
import type { CapiClient } from '../delivery/index.js';
import type { BodySource } from './read-body.js';
import type { Relay, RelayInput } from './types.js';

/** The Node `IncomingMessage` parts {@link serveNodeRelay} reads, plus what a body parser left. */
export interface NodeRelayRequest extends IncomingMessageLike {
  /** Set once the stream was read (by a body parser). */
  readableEnded?: boolean;
  /** What a body parser produced (`express.json()`, Nest's parser), if one ran. */
  body?: unknown;
  /** The raw bytes, when the framework kept them (Nest `rawBody: true`). */
  rawBody?: unknown;
}

/** The Node `ServerResponse` parts {@link serveNodeRelay} writes. */
export interface NodeRelayResponse {
  /** Whether something answered already (a timeout middleware, say). */
  readonly headersSent: boolean;
  /** Status to send. */
  statusCode: number;
  /** Sets one header. */
  setHeader(name: string, value: string | string[]): unknown;
  /** Reads one header (to keep cookies set before). */
  getHeader(name: string): number | string | string[] | undefined;
  /** Sends the body and ends the response. */
  end(body?: string): unknown;
}

/**
 * Answers one relay request on a Node server (Express, Nest, `node:http`): picks the body (raw
 * bytes, a parser's result, or the stream read here with the relay's cap), runs the relay and
 * writes its answer. Never throws and never rejects: a failure (the response was already sent by
 * someone else, a broken stream) goes to the client's `error` hook.
 */
export function serveNodeRelay<R>(
  relay: Relay<R>,
  client: CapiClient,
  req: NodeRelayRequest,
  res: NodeRelayResponse,
  options: { url?: string | undefined; context?: RequestContext | undefined; appRequest?: R } = {},
): void {
  const input: RelayInput<R> = {
    request: fromIncomingMessage(req, options.url ?? req.url),
    context: options.context,
  };
  if (options.appRequest !== undefined) input.appRequest = options.appRequest;
  const { body, rawBody } = req;
  if (rawBody instanceof Uint8Array) input.body = rawBody;
  else if (typeof body === 'string' || body instanceof Uint8Array) input.body = body;
  else if (req.readableEnded !== true) input.body = req as unknown as BodySource;
  else input.parsedBody = body; // a JSON parser read the stream first
  relay
    .handle(input)
    .then((answer) => {
      if (res.headersSent) return;
      res.statusCode = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      if (answer.cookies.length > 0) {
        const existing = res.getHeader('set-cookie');
        const kept =
          existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
        res.setHeader('Set-Cookie', [...kept, ...answer.cookies]);
      }
      res.end(answer.body);
    })
    .catch((error: unknown) => client.reportError(error, 'relay answer'));
}
