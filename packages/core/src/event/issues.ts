/** How serious an {@link Issue} is: an `error` stops the event from being sent, a `warning` does not. */
export type IssueSeverity = 'error' | 'warning';

/**
 * One problem found while building, normalizing or validating an event. Never carries the PII value
 * itself: `path` names the field (`user_data.em[0]`), `code` the rule, `message` explains it.
 */
export interface Issue {
  /** Dotted path of the field, e.g. `custom_data.currency` or `user_data.ph[1]`. */
  path: string;
  /** Stable machine-readable rule name, e.g. `invalid_email`, `missing_currency`. */
  code: string;
  /** Human-readable explanation, safe to log (contains no customer data). */
  message: string;
  /** `error` rejects the event; `warning` is informational. */
  severity: IssueSeverity;
}

/** Thrown only in `strict` mode: every issue of the rejected event, listed in one error. */
export class CapiValidationError extends Error {
  /** All issues found, errors and warnings. */
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    super(
      `Invalid Conversions API event: ${errors.map((i) => `${i.path}: ${i.message} (${i.code})`).join('; ')}`,
    );
    this.name = 'CapiValidationError';
    this.issues = issues;
  }
}

/** True when any issue is an `error`. */
export const hasErrors = (issues: readonly Issue[]): boolean =>
  issues.some((i) => i.severity === 'error');
