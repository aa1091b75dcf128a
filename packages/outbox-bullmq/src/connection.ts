import type { Redis, RedisOptions } from 'ioredis';

/** Where Redis is: a `redis://` URL, ioredis options (or BullMQ's `{ url, … }`), or an ioredis instance you own. */
export type RedisConnection = string | (RedisOptions & { url?: string | undefined }) | Redis;

/** True for an ioredis instance (it has a connection status), false for a URL or options. */
export const isRedisInstance = (connection: RedisConnection): connection is Redis =>
  typeof connection === 'object' &&
  connection !== null &&
  typeof (connection as Redis).status === 'string' &&
  typeof (connection as Redis).duplicate === 'function';

/** A URL's parts as ioredis options (so our own options can be merged in). */
export const toRedisOptions = (
  connection: string | (RedisOptions & { url?: string | undefined }),
): RedisOptions => {
  if (typeof connection !== 'string') {
    // BullMQ's connection options take a `url`, ioredis's ignore it: read as the URL it is, or the
    // producer's own connection went to 127.0.0.1:6379 while the workers (BullMQ) went to the URL.
    const { url, ...rest } = connection;
    return url === undefined ? rest : { ...toRedisOptions(url), ...rest };
  }
  // `localhost:6379` or `10.0.0.5:6379`, host:port as redis-cli and many .env files write it: it
  // parsed as the scheme `localhost:` ("got localhost:") or not at all (the message then blamed an
  // unencoded password). Neither said what to write. Only a host and digits: safe to echo.
  if (/^[A-Za-z0-9.-]+:\d{1,5}$/.test(connection.trim())) {
    throw new TypeError(
      `expected a redis:// or rediss:// URL, got host:port without a scheme: write redis://${connection.trim()} (or rediss:// for TLS)`,
    );
  }
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    // Not rethrown: Node's error carries the whole string as `input`, and with it the password,
    // into whatever logs the error (a crash at startup prints it).
    throw new TypeError(
      'expected a redis:// or rediss:// URL; this one does not parse (a password or user name with / ? # @ % or : must be percent-encoded, as encodeURIComponent does)',
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new TypeError(`expected a redis:// or rediss:// URL, got ${url.protocol}`);
  }
  const options: RedisOptions = {
    // An IPv6 address keeps its brackets in a URL's hostname ([::1]); ioredis takes it without
    // them, as its own URL parser strips them: with them it went to DNS (ENOTFOUND [::1]).
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port === '' ? 6379 : Number(url.port),
  };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '') {
    // ioredis sends `SELECT NaN` for anything else, and its failure at reconnect is an unhandled
    // rejection that ends the process.
    if (!/^\d+$/.test(db)) {
      throw new TypeError(
        `the path of a redis:// URL is the database number, got "/${db}" (leave it out for database 0)`,
      );
    }
    options.db = Number(db);
  }
  if (url.protocol === 'rediss:') options.tls = {};
  return options;
};

/**
 * ioredis's `reconnectOnError` for the connections this package opens: a READONLY answer means
 * the primary was demoted (a managed Redis's failover) while the connection stayed open. The
 * endpoint now leads to the new primary, but ioredis kept the old connection, so every write
 * failed for as long as the process lived. It reconnects (without resending: the producer's write
 * goes to its fallback, BullMQ retries its own).
 */
export const reconnectOnReadonly = (error: Error): boolean => error.message.startsWith('READONLY');

/**
 * True for an app's ioredis instance without `reconnectOnError`: after a failover it keeps its
 * connection to the demoted primary, and every write is answered READONLY. Not set here: the
 * instance is the app's, which may use it for other things; the READONLY message says what to give it.
 */
export const staysOnDemotedPrimary = (connection: RedisConnection): boolean =>
  isRedisInstance(connection) && typeof connection.options.reconnectOnError !== 'function';

/** Host:port as a URL writes it: an IPv6 address in brackets. */
const hostPort = (host: string | undefined, port: number | undefined): string => {
  const name = host ?? '127.0.0.1';
  return `${name.includes(':') ? `[${name}]` : name}:${port ?? 6379}`;
};

/** Host:port for messages, without credentials. */
export const describeConnection = (connection: RedisConnection): string => {
  if (isRedisInstance(connection)) {
    return hostPort(connection.options.host, connection.options.port);
  }
  const options = toRedisOptions(connection);
  return hostPort(options.host, options.port);
};

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * What `console.log`, `util.inspect` and `JSON.stringify` show of a handle this package returns:
 * `summary`, not its fields. Its BullMQ queue (and worker) keep the ioredis options, password
 * included, and a logged outbox or worker printed them. `handle.queue` itself is unchanged.
 */
export const describedAs = <T extends object>(handle: T, summary: Record<string, unknown>): T => {
  const describe = () => summary;
  Object.defineProperty(handle, INSPECT, { value: describe, enumerable: false });
  Object.defineProperty(handle, 'toJSON', { value: describe, enumerable: false });
  return handle;
};
