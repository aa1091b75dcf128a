/**
 * One outbox serves one client. A client counts what it appends and claims by pixel, and so
 * would a second one on the same outbox instance: with a pixel in common each sends the other's
 * events and counts them as its own (one `sent` above what it tracked, the other `queued`
 * forever), a durable outbox's start-up count is counted twice, the outbox reports evictions and
 * failures to the client that attached last only, and the first `close()` closes it under the
 * other. A durable outbox allows one opener per file, so sharing its instance is the natural
 * slip for two pixels or two configurations: createCapi refuses it at creation.
 */

const held = new WeakSet<object>();

/** Throws a `TypeError` when a client that has not finished closing holds `outbox`. */
export const assertOutboxFree = (outbox: object): void => {
  if (!held.has(outbox)) return;
  throw new TypeError(
    "createCapi: this outbox is already used by another client. An outbox serves one client until that client's close() has resolved: a second one would send the first one's events and count them as its own. Create one outbox per client, or send to several pixels from one client (`pixels`)",
  );
};

/** Marks `outbox` as held by a client; the returned function releases it. */
export const holdOutbox = (outbox: object): (() => void) => {
  held.add(outbox);
  return () => {
    held.delete(outbox);
  };
};
