/** What the recorder remembers of one `event_name` + `event_id` within the window. */
export interface SeenId {
  /** Bucket of the first sighting: the entry expires with it. */
  index: number;
  /** Pixels a server event with this id went to: a relay copy on one of them overlaps there. */
  serverPixelIds?: readonly string[] | undefined;
  /**
   * Pixels a relay event with this id went to: a server event on one of them overlaps there, and
   * a server event generated later is confirmed there.
   */
  relayPixelIds?: readonly string[] | undefined;
  /** Bucket of the server event whose id capi-kit generated, awaiting the relay's copy. */
  generatedIndex?: number | undefined;
  /** That event's pixels not confirmed yet. */
  generatedPixelIds?: readonly string[] | undefined;
}

/**
 * The remembered ids, oldest first, with O(1) eviction. A `Map` alone keeps insertion order, but
 * removing its oldest key (`keys().next()` then `delete`) makes V8 walk the deleted slots left at
 * the front on every call until the table is rehashed: 30 µs per event once the set is full
 * (measured on Node 26 at 50 000 ids), which every busy server reaches within minutes. A ring of
 * the keys in insertion order finds the oldest without walking anything.
 */
export class SeenIds {
  readonly #byKey = new Map<string, SeenId>();
  readonly #ring: (string | undefined)[] = [];
  #head = 0;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(key: string): SeenId | undefined {
    return this.#byKey.get(key);
  }

  /** Adds a new key, evicting the oldest one when full. */
  add(key: string, entry: SeenId): void {
    const ring = this.#ring;
    if (this.#byKey.size >= this.#capacity) this.#evictOldest();
    else if (this.#byKey.size === 0) {
      // Empty (everything expired): start over, so a ring still growing stays contiguous.
      ring.length = 0;
      this.#head = 0;
    }
    if (ring.length < this.#capacity) ring.push(key);
    else ring[(this.#head + this.#byKey.size) % this.#capacity] = key;
    this.#byKey.set(key, entry);
  }

  /**
   * Removes every entry first seen in bucket `oldest` or before (entries are in bucket order), and
   * at the front any first seen after bucket `newest`: one noted while the wall clock ran ahead (a
   * VM resumed, then NTP set it back) would otherwise hold back the expiry of every later entry
   * until the clock caught up with it, and pairs hours apart counted as overlaps.
   */
  expire(oldest: number, newest: number): void {
    while (this.#byKey.size > 0) {
      const entry = this.#byKey.get(this.#ring[this.#head] as string);
      if (entry !== undefined && entry.index > oldest && entry.index <= newest) return;
      this.#evictOldest();
    }
  }

  #evictOldest(): void {
    const ring = this.#ring;
    this.#byKey.delete(ring[this.#head] as string);
    ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % ring.length;
  }
}
