/**
 * Hostile caller data for `track()`: plain event inputs and options (fast-check arbitraries), and
 * every way one position in them can throw when read — a throwing getter, a Proxy whose trap
 * throws, a revoked Proxy, a value whose `toString`/`toJSON`/`valueOf`/`Symbol.toPrimitive`
 * throws. Shared by core's property test and the Express adapter's (relative import: it depends
 * on fast-check only, not on the package under test).
 */
import fc from 'fast-check';

/** A customer-data marker every thrown value carries: it must never reach a log line or a hook. */
export const MARK = 'leaked-9c1e@example.com';

/** What the hostile read throws: an Error, a non-Error, and values that are hostile themselves. */
export const THROWN_KINDS = [
  'error',
  'type-error',
  'string',
  'object',
  'cause',
  'name-getter',
  'revoked-proxy',
] as const;
/** One of {@link THROWN_KINDS}. */
export type ThrownKind = (typeof THROWN_KINDS)[number];

/** The thrown value of a kind; each carries {@link MARK} where a careless reporter would read it. */
export function thrownValue(kind: ThrownKind): unknown {
  switch (kind) {
    case 'error':
      return new Error(`lookup failed for ${MARK}`);
    case 'type-error':
      return new TypeError(`cannot read ${MARK}`);
    case 'string':
      return MARK;
    case 'object':
      return { message: MARK, toString: () => MARK };
    case 'cause':
      return new Error('outer', { cause: new Error(MARK) });
    case 'name-getter': {
      const error = new RangeError(MARK);
      Object.defineProperty(error, 'name', {
        get() {
          throw new Error(MARK);
        },
      });
      return error;
    }
    case 'revoked-proxy': {
      const { proxy, revoke } = Proxy.revocable({ message: MARK }, {});
      revoke();
      return proxy;
    }
  }
}

/** Proxy traps that can be made to throw. */
export const TRAPS = [
  'get',
  'has',
  'ownKeys',
  'getOwnPropertyDescriptor',
  'getPrototypeOf',
] as const;
/** Methods a value may be converted with. */
export const COERCIONS: readonly ('toString' | 'toJSON' | 'valueOf' | symbol)[] = [
  'toString',
  'toJSON',
  'valueOf',
  Symbol.toPrimitive,
];

/** How one position is made hostile. */
export type Hostility =
  | { kind: 'getter' }
  | { kind: 'trap'; trap: (typeof TRAPS)[number] }
  | { kind: 'revoked' }
  | { kind: 'coercion'; method: (typeof COERCIONS)[number] };

/** A place in a plain tree: the keys from the root (empty for the root itself). */
export type Path = readonly (string | number)[];

const isNode = (value: unknown): value is Record<string, unknown> | unknown[] =>
  typeof value === 'object' && value !== null;

/** Every position of a plain tree (root, objects, arrays, leaves), depth first. */
export function positionsOf(tree: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (isNode(tree)) {
    const entries: [string | number, unknown][] = Array.isArray(tree)
      ? tree.map((v, i) => [i, v])
      : Object.entries(tree);
    for (const [key, value] of entries) out.push(...positionsOf(value, [...path, key]));
  }
  return out;
}

/** Every way the value at `path` can throw when read (a root cannot become a getter). */
export function hostilitiesAt(path: Path): Hostility[] {
  const all: Hostility[] = [
    ...TRAPS.map((trap) => ({ kind: 'trap' as const, trap })),
    { kind: 'revoked' },
    ...COERCIONS.map((method) => ({ kind: 'coercion' as const, method })),
  ];
  return path.length === 0 ? all : [{ kind: 'getter' }, ...all];
}

/** The path as track() issues spell it: `user_data.em[0]`; the root is `root`. */
export function pathText(path: Path, root: string): string {
  let out = root;
  for (const key of path) out = typeof key === 'number' ? `${out}[${key}]` : `${out}.${key}`;
  return out;
}

/**
 * A copy of the plain `tree` with the position at `path` made hostile. `fire` is called whenever
 * the hostile read happens (before it throws), so a test can tell whether track() touched it.
 */
export function makeHostile(
  tree: unknown,
  path: Path,
  hostility: Hostility,
  thrown: () => unknown,
  fire: () => void,
): unknown {
  const boom = (): never => {
    fire();
    throw thrown();
  };
  const copy = (value: unknown): unknown => {
    if (!isNode(value)) return value;
    if (Array.isArray(value)) return value.map(copy);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
  };
  const hostileValue = (value: unknown): unknown => {
    switch (hostility.kind) {
      case 'trap': {
        const target = isNode(value) ? copy(value) : { value };
        return new Proxy(target as object, { [hostility.trap]: boom });
      }
      case 'revoked': {
        const { proxy, revoke } = Proxy.revocable(isNode(value) ? (copy(value) as object) : {}, {});
        revoke();
        return proxy;
      }
      case 'coercion': {
        const target = (isNode(value) && !Array.isArray(value) ? copy(value) : {}) as Record<
          string | symbol,
          unknown
        >;
        target[hostility.method] = boom;
        return target;
      }
      case 'getter':
        return value;
    }
  };
  const root = copy(tree);
  if (path.length === 0) return hostileValue(root);
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (hostility.kind === 'getter') {
    Object.defineProperty(parent, last, { get: boom, enumerable: true, configurable: true });
  } else {
    parent[last] = hostileValue(parent[last]);
  }
  return root;
}

const text = fc.string({ maxLength: 10 });
const email = fc.constantFrom('buyer@example.com', ' Mixed.Case@Example.COM ', 'not-an-email');

/** Event inputs as apps write them, valid and not, nested down to `contents` items. */
export const eventInputArb = fc.record(
  {
    event_name: fc.constantFrom('Purchase', 'Lead', 'PageView', 'AddToCart', 'custom_step'),
    event_id: fc.oneof(fc.uuid(), fc.integer({ min: 1, max: 1e6 }), fc.constant('')),
    action_source: fc.constantFrom('website', 'app', 'email', 'system_generated', 'nope'),
    event_source_url: fc.constantFrom('https://shop.example/checkout', 'relative/path'),
    referrer_url: fc.constant('https://search.example/'),
    user_data: fc.record(
      {
        em: fc.oneof(email, fc.array(email, { minLength: 1, maxLength: 2 })),
        ph: fc.constantFrom('+1 650 555 0100', '06 11 22 33 44'),
        fn: text,
        ct: fc.constantFrom('Menlo Park', 'Zürich'),
        country: fc.constantFrom('US', 'fr'),
        external_id: fc.array(text, { maxLength: 2 }),
        client_user_agent: fc.constant('Mozilla/5.0 (hostile test)'),
        client_ip_address: fc.constantFrom('203.0.113.5', '2001:db8::1'),
        fbp: fc.constant('fb.1.1700000000000.42'),
      },
      { requiredKeys: [] },
    ),
    custom_data: fc.record(
      {
        value: fc.oneof(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.constant('12.50')),
        currency: fc.constantFrom('USD', 'eur', 'xx'),
        content_ids: fc.array(text, { maxLength: 3 }),
        contents: fc.array(
          fc.record(
            {
              id: text,
              quantity: fc.integer({ min: -1, max: 5 }),
              item_price: fc.double({ min: 0, max: 100, noNaN: true }),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        order_id: text,
        loyalty: fc.record({
          tier: text,
          points: fc.integer(),
          tags: fc.array(text, { maxLength: 2 }),
        }),
      },
      { requiredKeys: [] },
    ),
    original_event_data: fc.record({
      event_name: fc.constant('Purchase'),
      event_time: fc.constant(1.7e9),
    }),
    data_processing_options: fc.constantFrom([], ['LDU']),
    extra_field: fc.record({ nested: text }),
  },
  { requiredKeys: ['event_name'] },
);

/**
 * Per-call options: the pixels (one configured, one not), the source and a request context.
 * `pixel` is the configured pixel id.
 */
export const trackOptionsArb = (pixel: string) =>
  fc.record(
    {
      pixelIds: fc.constantFrom([pixel], [pixel, 'not-configured']),
      source: fc.constantFrom('server' as const, 'relay' as const),
      context: requestContextArb,
    },
    { requiredKeys: [] },
  );

/** A request context as `getRequestContext` makes one (consent never `denied`, so events go on). */
export const requestContextArb = fc.record({
  user_data: fc.record(
    {
      client_ip_address: fc.constant('198.51.100.7'),
      client_user_agent: fc.constant('Mozilla/5.0 (context)'),
      fbp: fc.constant('fb.1.1700000000000.7'),
    },
    { requiredKeys: [] },
  ),
  event_source_url: fc.constant('https://shop.example/page'),
  cookiesToSet: fc.constant([] as never[]),
  consent: fc.constantFrom('granted' as const, 'ldu' as const),
  isNavigation: fc.boolean(),
});
