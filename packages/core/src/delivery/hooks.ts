import type { CapiHookMap, Logger } from './types.js';

/** A hook listener; its return value is ignored and a rejected promise is contained. */
export type Listener<T> = (info: T) => unknown;

/**
 * Minimal typed emitter. A listener that throws or rejects never breaks delivery and never becomes
 * an unhandled rejection (segmentio/analytics-node#320 crashed apps that way); its failure goes to
 * the logger only, so an `error` listener that throws cannot loop.
 */
export class HookBus {
  private readonly listeners: { [K in keyof CapiHookMap]?: Set<Listener<CapiHookMap[K]>> } = {};

  constructor(private readonly logger: Logger) {}

  on<K extends keyof CapiHookMap>(name: K, listener: Listener<CapiHookMap[K]>): () => void {
    let set = this.listeners[name] as Set<Listener<CapiHookMap[K]>> | undefined;
    if (!set) {
      set = new Set();
      (this.listeners as Record<string, Set<Listener<CapiHookMap[K]>>>)[name] = set;
    }
    // A wrapper so the same function registered twice is two subscriptions, each removable.
    const entry: Listener<CapiHookMap[K]> = (info) => listener(info);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** True when someone listens: payloads (id lists) are only built when needed. */
  has(name: keyof CapiHookMap): boolean {
    return (this.listeners[name]?.size ?? 0) > 0;
  }

  emit<K extends keyof CapiHookMap>(name: K, build: () => CapiHookMap[K]): void {
    const set = this.listeners[name] as Set<Listener<CapiHookMap[K]>> | undefined;
    if (!set || set.size === 0) return;
    let info: CapiHookMap[K];
    try {
      info = build();
    } catch (error) {
      this.contain(name, error);
      return;
    }
    for (const listener of [...set]) {
      try {
        const result = listener(info);
        if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
          (result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
            this.contain(name, error),
          );
        }
      } catch (error) {
        this.contain(name, error);
      }
    }
  }

  private contain(name: string, error: unknown): void {
    try {
      this.logger.error(
        { hook: name, error: error instanceof Error ? error.name : typeof error },
        'capi-kit: a hook listener threw; delivery continues',
      );
    } catch {
      // A broken logger must not break delivery either.
    }
  }
}
