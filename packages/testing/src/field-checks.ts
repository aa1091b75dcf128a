/** A step of a path inside the request body: a key or an index. */
export type PathPart = string | number;

/** What a failed check found: where, which kind of refusal, and why. */
export interface Violation {
  path: PathPart[];
  /** `required`: absent; `invalid`: present but wrong; the other two carry their own subcode. */
  kind: 'required' | 'invalid' | 'too_old' | 'insufficient';
  reason: string;
}

/** A plain object (not null, not an array). */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string with something besides whitespace. */
export const isNonEmptyString = (v: unknown): v is string =>
  typeof v === 'string' && v.trim() !== '';

/** The field at `path` is absent. */
export const required = (path: PathPart[]): Violation => ({
  path,
  kind: 'required',
  reason: 'is required',
});
/** The field at `path` is present but wrong, with why. */
export const invalid = (path: PathPart[], reason: string): Violation => ({
  path,
  kind: 'invalid',
  reason,
});
