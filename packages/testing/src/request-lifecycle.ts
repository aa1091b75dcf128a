// The life of one logged request, the same at Meta's Graph endpoint and TikTok's: it is recorded
// on arrival, takes its scripted fault then, and its record is finished once, when the connection
// closes (answered, hung up by the client, reset by a fault, or cut by the mock's close()).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultQueue } from './fault-queue.js';

/** What the lifecycle writes on a request's record: Meta's and TikTok's records both have it. */
export interface LifecycleRecord<K extends string> {
  /** The scripted fault applied to it, if any. */
  fault?: K;
  /** Arrival to answer (or to connection close, for hang and reset). */
  durationMs: number;
  /** The client closed the connection before the answer was sent. */
  clientAborted: boolean;
}

/** The faults an endpoint holds: its one-shot queue, then its outage. */
export interface EndpointFaults<F> {
  queue: FaultQueue<F>;
  outage: F | undefined;
}

/** What the endpoint hands {@link openRequest}. */
export interface OpenRequestOptions<R, F> {
  /** `performance.now()` at arrival. */
  started: number;
  /** Keeps the record in the endpoint's request log. */
  add(record: R): void;
  /** The endpoint's faults, when the request is one they apply to (else none is taken). */
  faults: EndpointFaults<F> | undefined;
  /** Called once with a copy of the finished record (the server's onRequest option). */
  onRequest(record: R): void;
  /** Tells the Events Manager page that something changed. */
  changed(): void;
  /** Whether the server is closing: a connection it cuts is not the client's abort. */
  closing(): boolean;
}

/** A request {@link openRequest} recorded. */
export interface OpenRequest<F> {
  /** The fault it took on arrival, or none. */
  readonly fault: F | undefined;
  /** Drops the connection, as a `reset` fault does: the record does not count it as the client's abort. */
  reset(req: IncomingMessage): void;
}

/**
 * Records `record` now and takes its fault now (the next one-shot fault, else the outage): what
 * holds when a request comes in decides its answer, not what holds once its body is read. A
 * test's recover() or reset() while a client's last request is still arriving must not turn an
 * outage's refusal into events accepted into the next test (seen in CI, under load), nor hand that
 * request the fault the next test queues. The record is finished when `res` closes.
 */
export const openRequest = <K extends string, R extends LifecycleRecord<K>, F extends { kind: K }>(
  record: R,
  res: ServerResponse,
  options: OpenRequestOptions<R, F>,
): OpenRequest<F> => {
  options.add(record);
  const fault = options.faults ? (options.faults.queue.take() ?? options.faults.outage) : undefined;
  if (fault) record.fault = fault.kind;
  let finished = false;
  let resetByMock = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    record.durationMs = Math.round((performance.now() - options.started) * 10) / 10;
    options.onRequest({ ...record });
    options.changed();
  };
  res.on('close', () => {
    if (!res.writableFinished && !options.closing() && !resetByMock) {
      record.clientAborted = true;
    }
    finish();
  });
  return {
    fault,
    reset(req) {
      resetByMock = true;
      req.socket.destroy();
    },
  };
};
