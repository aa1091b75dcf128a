/**
 * What `track()` says when reading the caller's data threw: a getter, a Proxy trap, a revoked
 * Proxy, a `toJSON`. It runs only after a throw was caught (never on the hot path) and describes
 * the failure by the field's path and the error's built-in type, never by the thrown value or its
 * message: an ORM entity's getter or a form library's Proxy may well put the email in it.
 */

/** Where reading a caller's value threw, and the built-in type of what was thrown. */
export interface UnreadableField {
  /** The field, as in issues: `user_data.em`, `custom_data.contents[2]`, `options.pixelIds`. */
  path: string;
  /** `TypeError`, `RangeError`, … `Error` for other `Error`s, `typeof` for anything else. */
  errorType: string;
}

// Bounds of the walk: a hostile input must not make the failure path slow or unbounded.
const MAX_DEPTH = 16;
const MAX_READS = 5_000;

const BUILT_IN_ERRORS: readonly (readonly [string, abstract new (...args: never[]) => Error])[] = [
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['URIError', URIError],
  ['EvalError', EvalError],
  ['AggregateError', AggregateError],
];

/**
 * The type of a thrown value from a fixed vocabulary. `error.name` is not used: it is the thrower's
 * to set (to a value, or to a getter that throws in turn).
 */
export const errorTypeOf = (error: unknown): string => {
  try {
    if (error === null) return 'null';
    if (typeof error !== 'object' && typeof error !== 'function') return typeof error;
    for (const [name, type] of BUILT_IN_ERRORS) if (error instanceof type) return name;
    return error instanceof Error ? 'Error' : typeof error;
  } catch {
    // `instanceof` on a Proxy runs its getPrototypeOf trap, which may throw too.
    return 'unknown';
  }
};

const join = (path: string, key: string | symbol, isArray: boolean): string => {
  if (typeof key === 'symbol') return `${path}[symbol]`;
  if (isArray && /^\d+$/.test(key)) return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
};

/**
 * Walks the given values again the way `track()` reads them (own keys, property descriptors,
 * getters including inherited ones, `Array.isArray`, the prototype, `toJSON`) and returns the first
 * read that throws. `undefined` when every read succeeds this time: the failure was ours, or a
 * getter that throws only once. Getters run a second time here, on the failure path only.
 */
export function locateUnreadable(
  roots: readonly (readonly [path: string, value: unknown])[],
): UnreadableField | undefined {
  const seen = new Set<unknown>();
  let reads = 0;
  const visit = (value: unknown, path: string, depth: number): UnreadableField | undefined => {
    if (typeof value !== 'object' || value === null) return undefined;
    if (seen.has(value) || depth > MAX_DEPTH || reads > MAX_READS) return undefined;
    seen.add(value);
    const at = (error: unknown): UnreadableField => ({
      path: path === '' ? 'event' : path,
      errorType: errorTypeOf(error),
    });
    let isArray: boolean;
    let keys: (string | symbol)[];
    const getters: (string | symbol)[] = [];
    try {
      isArray = Array.isArray(value);
      keys = Reflect.ownKeys(value);
      for (const key of keys) Reflect.getOwnPropertyDescriptor(value, key);
      // copyForExtension asks for an own `__proto__` before copying.
      Reflect.getOwnPropertyDescriptor(value, '__proto__');
      // Getters a class declares (an ORM entity's `get email()`) are read like own fields.
      for (
        let proto = Reflect.getPrototypeOf(value);
        proto !== null && proto !== Object.prototype && proto !== Array.prototype;
        proto = Reflect.getPrototypeOf(proto)
      ) {
        for (const key of Reflect.ownKeys(proto)) {
          if (key !== 'constructor' && Reflect.getOwnPropertyDescriptor(proto, key)?.get) {
            getters.push(key);
          }
        }
      }
    } catch (error) {
      return at(error);
    }
    for (const key of [...keys, ...getters]) {
      reads++;
      if (reads > MAX_READS) return undefined;
      const child = join(path, key, isArray);
      let next: unknown;
      try {
        next = Reflect.get(value, key);
      } catch (error) {
        return { path: child, errorType: errorTypeOf(error) };
      }
      const found = visit(next, child, depth + 1);
      if (found) return found;
    }
    // JSON.stringify calls toJSON on what track() serializes (custom parameters pass through).
    try {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        return visit(toJSON.call(value, ''), path, depth + 1);
      }
    } catch (error) {
      return at(error);
    }
    return undefined;
  };
  for (const [path, value] of roots) {
    const found = visit(value, path, 0);
    if (found) return found;
  }
  return undefined;
}
