/**
 * The outbox contract the delivery engine is written against. Every method may answer
 * synchronously (in-memory, SQLite via better-sqlite3) or with a promise (Redis, Postgres), so the
 * same engine drives both. Delivery is at-least-once: a record leaves the outbox only through
 * `ack`, `deadLetter` or eviction.
 */

/** A value or a promise of it: sync and async outboxes share one interface. */
export type MaybePromise<T> = T | Promise<T>;

/** One serialized event waiting to be sent to one pixel (fan-out makes one record per pixel). */
export interface OutboxRecord {
  /** Unique record id (not the `event_id`: one event sent to two pixels is two records). */
  id: string;
  /** Pixel (dataset) id the record is sent to. */
  pixelId: string;
  /** The event's `event_id`; never changes across retries, Meta deduplicates on it. */
  eventId: string;
  /** The event's `event_name`, for logs and hooks. */
  eventName: string;
  /** The event's `event_time` in Unix seconds; never changes across retries. */
  eventTime: number;
  /** The event's `action_source`; `physical_store` has a longer upload window. */
  actionSource: string;
  /** The wire event serialized once at `track()` (`JSON.stringify`), re-sent verbatim on retries. */
  body: string;
  /** UTF-8 size of `body` in bytes. */
  bytes: number;
  /** Failed delivery attempts so far (throttling and shutdown aborts do not count). */
  attempts: number;
  /** When the record was appended (epoch ms). */
  enqueuedAt: number;
  /** Not claimable before this time (epoch ms). */
  retryAt: number;
  /** The last failure, redacted (set by `nack`). */
  lastError?: string;
}

/** Narrows a `claim`. */
export interface ClaimOptions {
  /** Only records for this pixel; the engine always sets it (pause and circuit are per pixel). */
  pixelId?: string;
  /** Stop before the claimed bodies (plus one comma each) exceed this many bytes; at least one record is returned. */
  maxBytes?: number;
  /** The engine's clock (epoch ms) for `retryAt` and lease checks; default `Date.now()`. */
  now?: number;
  /** Every remaining record regardless of `retryAt` and leases — used at shutdown by non-durable outboxes. */
  all?: boolean;
}

/** What `append` did beyond storing: records evicted to stay within bounds (drop-oldest). */
export interface AppendResult {
  /** Records removed to make room, oldest first. May include just-appended ones when nothing older could go. */
  evicted: readonly OutboxRecord[];
  /**
   * Records whose delivery the outbox hands to someone else (a queue's workers in other processes):
   * the engine neither counts nor sends them. Absent or empty for outboxes the engine drains itself.
   */
  delegated?: readonly OutboxRecord[];
}

/**
 * The engine as an outbox sees it after `attach`: the way to report what happens outside `append`
 * (records put back for delivery, records dropped on the outbox's own schedule, failures).
 */
export interface OutboxHost {
  /** Records became claimable without `append` (dead letters retried, a producer's fallback): the engine counts and sends them. */
  added(records: readonly OutboxRecord[]): void;
  /**
   * A previous run's records became claimable after start, `count` of them (`bytes` UTF-8 bytes)
   * for this pixel: a file another process held at start and let go since. As with a previous
   * run's records found at start, the engine counts them as queued and sends them if it sends to
   * this pixel (true), and leaves them alone if it does not (false).
   */
  recovered(pixelId: string, count: number, bytes: number): boolean;
  /** Records the outbox removed to stay within its bounds: counted as dropped (`overflow`). */
  evicted(records: readonly OutboxRecord[]): void;
  /** A failure the app must hear about: `logger.error` and the `error` hook (kind `outbox`). */
  error(error: unknown): void;
  /** Something worth a look: `logger.warn` and the `warn` hook. */
  warn(message: string): void;
}

/** Per-pixel outbox counters. */
export interface OutboxPixelStats {
  /** Records waiting (not leased). */
  queued: number;
  /** Records claimed and not yet acked/nacked. */
  leased: number;
  /** UTF-8 bytes of all held records (queued + leased). */
  bytes: number;
  /** `enqueuedAt` of the oldest waiting record. */
  oldestEnqueuedAt?: number;
}

/** Outbox counters, totals and per pixel. */
export interface OutboxStats extends OutboxPixelStats {
  /** Records dead-lettered over the outbox's lifetime. */
  deadLettered: number;
  /** Per pixel id. */
  pixels: Record<string, OutboxPixelStats>;
}

/**
 * Where accepted events wait until Meta acknowledges them. `memoryOutbox()` is the default;
 * durable implementations (SQLite, Redis) live in `@capi-kit/outbox-*`.
 *
 * Methods may return promises, and their calls then overlap: at shutdown a `claim` with `all`
 * also returns records another call is still acknowledging or giving back, and `ack`, `nack`,
 * `release` and `deadLetter` may name ids the outbox no longer holds or no longer leases. Ignore
 * those ids; the engine counts every event once whatever order the calls take effect in
 * (docs/architecture.md, delivery guarantees).
 */
export interface Outbox {
  /** True when records survive a process restart; non-durable records left at `close()` are reported as dropped (`shutdown`), and so are those a durable outbox reports through `takeNonDurable`. */
  readonly durable: boolean;
  /** Stores records; evicts the oldest waiting ones beyond the outbox's bounds and reports them. */
  append(records: readonly OutboxRecord[]): MaybePromise<AppendResult | undefined>;
  /** Leases up to `limit` ready records (oldest first) for `leaseMs`; expired leases become claimable again. */
  claim(limit: number, leaseMs: number, options?: ClaimOptions): MaybePromise<OutboxRecord[]>;
  /** Delivered: remove. */
  ack(ids: readonly string[]): MaybePromise<void>;
  /** A failed attempt: `attempts + 1`, not claimable before `retryAt`. */
  nack(ids: readonly string[], retryAt: number, error?: string): MaybePromise<void>;
  /** Give back unattempted (throttle pause, shutdown abort, interrupted bisection): `attempts` unchanged. */
  release(ids: readonly string[], retryAt: number): MaybePromise<void>;
  /** Permanently undeliverable: remove from the queue (a durable outbox may keep them for inspection). */
  deadLetter(ids: readonly string[], error: string): MaybePromise<void>;
  /** Counters. */
  stats(): MaybePromise<OutboxStats>;
  /** Called once by `createCapi` with the engine's side of the contract. Optional. */
  attach?(host: OutboxHost): void;
  /** Makes what `append` buffered durable (a group commit, a bulk enqueue); awaited by `client.flush()` and `close()`. Optional. */
  flush?(): MaybePromise<void>;
  /** Releases the outbox's resources after a final `flush`; called at the end of `client.close()`, once every call of the engine's on it has answered. Optional. */
  close?(): MaybePromise<void>;
  /**
   * Durable outboxes only: removes and returns this pixel's records the outbox holds in memory
   * alone because its storage refused them (a full disk), waiting or leased — a restart would lose
   * them. `close()` calls it once per pixel after the final flush (or at its deadline), and again
   * whenever records land after that (an async append answered late, records put back), until
   * those takes have answered and it calls `close`; it counts them as dropped (`shutdown`) and
   * hands them to `onUndeliverable`. Optional; without it every record of a durable outbox is
   * taken to survive.
   */
  takeNonDurable?(pixelId: string): MaybePromise<readonly OutboxRecord[]>;
}
