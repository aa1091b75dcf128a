/**
 * Spelling suggestions for names a developer types by hand (event names, `custom_data` keys):
 * "did you mean". Internal; only ever compares names, never customer data.
 */

/** Lowercased with separators removed, so `add_to_cart`, `Add-To-Cart` and `AddToCart` compare equal. */
const canonical = (name: string): string => name.toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Edit distance with adjacent transpositions (optimal string alignment), or `max + 1` as soon as
 * it is known to exceed `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (beforePrevious[j - 2] as number) + 1);
      }
      current.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The candidate `name` most likely misspells: equal once case and separators are ignored, or
 * within a small edit distance: none below 5 characters (`Load` is not `Lead`), 1 up to 7, then 2.
 * `undefined` when `name` is itself a candidate or nothing is close.
 */
export function closestName<T extends string>(
  name: string,
  candidates: readonly T[],
): T | undefined {
  const wanted = canonical(name);
  const max = wanted.length < 5 ? 0 : wanted.length < 8 ? 1 : 2;
  let best: T | undefined;
  let bestDistance = max + 1;
  for (const candidate of candidates) {
    if (candidate === name) return undefined;
    const distance = editDistance(wanted, canonical(candidate), max);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
