// Freshness is kept as a sparse histogram on a fixed grid, so memory does not grow with traffic:
// 1 s steps up to 1 min, 1 min steps up to 1 h, then 1 h steps (events may be up to 62 days old).

/** Grid index of a delay in seconds: the smallest grid point ≥ the delay (negative → 0). */
export const freshnessIndex = (seconds: number): number => {
  const s = Number.isFinite(seconds) ? Math.max(seconds, 0) : 0;
  if (s <= 60) return Math.ceil(s);
  if (s <= 3600) return 59 + Math.ceil(s / 60);
  return 118 + Math.ceil(s / 3600);
};

/** The delay in seconds a grid index stands for. */
export const freshnessValue = (index: number): number => {
  if (index <= 60) return index;
  if (index <= 119) return (index - 59) * 60;
  return (index - 118) * 3600;
};

/** Nearest-rank percentile `p` (0–100] of a histogram (grid index → count); null when empty. */
export const histogramPercentile = (
  histogram: ReadonlyMap<number, number>,
  p: number,
): number | null => {
  let total = 0;
  for (const count of histogram.values()) total += count;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  const indices = [...histogram.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const index of indices) {
    seen += histogram.get(index) ?? 0;
    if (seen >= rank) return freshnessValue(index);
  }
  return freshnessValue(indices[indices.length - 1] as number);
};
