// BullMQ needs `maxmemory-policy noeviction`: under any other, a Redis at its maxmemory evicts
// keys, a queue's jobs and its bookkeeping among them, and their events are lost without a trace.
// BullMQ only prints a console.warn per connection (four for a producer and a worker), past the
// app's logger and hooks, without saying what is at stake: the producer and the worker each say
// it once, through their logger and `error` hook.

/** The policy Redis reports (`INFO`) when it is not `noeviction`; `undefined` if it is, or INFO is refused. */
export const evictionPolicy = async (redis: {
  info(): Promise<string>;
}): Promise<string | undefined> => {
  try {
    const policy = /^maxmemory_policy:(\S+)/m.exec(await redis.info())?.[1];
    return policy === undefined || policy === 'noeviction' ? undefined : policy;
  } catch {
    // An ACL user without INFO, or Redis gone meanwhile: nothing to say about it.
    return undefined;
  }
};

/** What the producer and the worker say of a Redis that evicts. */
export const evictionMessage = (where: string, policy: string, queueName: string): string =>
  `Redis at ${where} has maxmemory-policy ${policy}: when it reaches its maxmemory it evicts keys, queue "${queueName}"'s jobs among them, and their events are lost without a trace. BullMQ needs noeviction (then a full Redis refuses new jobs and the producer keeps them in memory, loudly): set maxmemory-policy noeviction (redis.conf, CONFIG SET, or your provider's parameter group).`;
