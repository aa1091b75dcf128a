// Redis answering a write with a refusal (out of memory, read-only replica, credentials, ACL) is a
// fault of its configuration, not of the network: "unreachable … Check Redis." sent the operator
// looking for the wrong thing. Read from the reply's code (its first word), never from anything
// the caller configured, so no credential can end up in the message.

/** What a Redis failure is, as a message says it, and what to change. */
export interface RedisFailure {
  /** After "Redis at host:port": `is unreachable`, `is out of memory`, … */
  problem: string;
  /** What to change, one sentence. */
  fix: string;
}

/** What the fix depends on besides the reply: how the connection was given. */
export interface RefusalContext {
  /**
   * `connection` is the app's ioredis instance, without `reconnectOnError`: after a failover it
   * stays on the demoted primary (see {@link staysOnDemotedPrimary}).
   */
  staysOnDemotedPrimary?: boolean | undefined;
}

/** The failure a Redis error message (`OOM command not allowed …`, `NOAUTH …`) describes. */
export const redisFailure = (reason: string, context: RefusalContext = {}): RedisFailure => {
  const code = /(?:^|: )([A-Z]+) /.exec(reason)?.[1];
  switch (code) {
    case 'OOM':
      return {
        problem: 'is out of memory',
        fix: 'Redis refuses new jobs at its maxmemory: raise its maxmemory, or add workers to drain the queue.',
      };
    case 'READONLY':
      return {
        problem: 'is a read-only replica',
        // The connections this package opens reconnect on READONLY by themselves; an app's
        // instance is the app's to configure, and its endpoint is most likely right already.
        fix: context.staysOnDemotedPrimary
          ? "Jobs can only be written to the primary. After a failover the endpoint leads to the new one, but the ioredis instance given as `connection` stays connected to the demoted node: create it with `reconnectOnError: (error) => error.message.startsWith('READONLY')` (or give `connection` as a URL or options: this package's own connections do so). If it points at a replica, point it at the primary (or the cluster’s writer endpoint)."
          : 'Jobs can only be written to the primary: point `connection` at the primary (or the cluster’s writer endpoint).',
      };
    case 'NOAUTH':
    case 'WRONGPASS':
      return {
        problem: "refused the connection's credentials",
        fix: 'Put the password (and user) in `connection` (redis://user:password@host:port, percent-encoded).',
      };
    case 'NOPERM':
      return {
        problem: 'refused a command to this user',
        fix: "Grant the ACL user BullMQ's commands (its scripts run with EVALSHA) on the queue's keys (~<prefix>:*).",
      };
    case 'CROSSSLOT':
      return {
        problem: 'is a Redis Cluster',
        fix: "BullMQ needs all of a queue's keys in one slot there: give producers and workers the same hash-tagged prefix (prefix: '{bull}').",
      };
    default:
      return { problem: 'is unreachable', fix: 'Check Redis.' };
  }
};

/** For a worker's log line: `{ fix }` when the error is a refusal {@link redisFailure} knows, else nothing. */
export const redisFix = (reason: string, context?: RefusalContext): { fix?: string } => {
  const { problem, fix } = redisFailure(reason, context);
  return problem === 'is unreachable' ? {} : { fix };
};

/** A refusal {@link redisFailure} knows, with its reply code (`NOAUTH`), for a later message; else undefined. */
export const redisRefusal = (
  reason: string,
  context?: RefusalContext,
): (RedisFailure & { code: string }) | undefined => {
  const failure = redisFailure(reason, context);
  const code = /(?:^|: )([A-Z]+) /.exec(reason)?.[1];
  return failure.problem === 'is unreachable' || code === undefined
    ? undefined
    : { ...failure, code };
};
