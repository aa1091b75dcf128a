/**
 * The records the validating pass will not send (invalid, duplicate or blank), one bit each by
 * their position under the header, for the sending pass to pass over. A `Set` of their line
 * numbers cost about 25 bytes a row, and most of a year of store sales is older than Meta's 62 days
 * for `physical_store`: a bit a record is 125 kB for a million rows, whatever they hold.
 */
export class SkippedRows {
  private bits = new Uint8Array(4096);

  /** Marks the record at `index` (0 for the first record under the header). */
  add(index: number): void {
    const byte = index >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[byte] = (this.bits[byte] as number) | (1 << (index & 7));
  }

  /** True when the record at `index` was marked. */
  has(index: number): boolean {
    const byte = index >>> 3;
    return byte < this.bits.length && ((this.bits[byte] as number) & (1 << (index & 7))) !== 0;
  }
}
