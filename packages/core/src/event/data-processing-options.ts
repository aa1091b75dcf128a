import type { Issue } from './issues.js';
import type { ServerEvent } from './types.js';

// Limited Data Use: `data_processing_options` is `['LDU']` or `[]`. With LDU,
// `data_processing_options_country` (1 = US, 0 = geolocate) is required, and a country needs a
// state too (`data_processing_options_state`: 1000 = California, 0 = geolocate).
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api [UA]

type DataProcessingFields = Pick<
  ServerEvent,
  'data_processing_options' | 'data_processing_options_country' | 'data_processing_options_state'
>;

function error(issues: Issue[], path: string, code: string, message: string): void {
  issues.push({ path, code, message, severity: 'error' });
}

/**
 * Validates the Limited Data Use fields of `source` and writes the ones to send into `out`.
 * Country and state without LDU have no effect and are dropped with a warning.
 */
export function applyDataProcessingOptions(
  source: Readonly<Record<string, unknown>>,
  out: DataProcessingFields,
  issues: Issue[],
): void {
  const options = source.data_processing_options;
  const country = source.data_processing_options_country;
  const state = source.data_processing_options_state;
  let ldu = false;
  if (options !== undefined && options !== null) {
    if (
      !Array.isArray(options) ||
      options.length > 1 ||
      (options.length === 1 && options[0] !== 'LDU')
    ) {
      error(
        issues,
        'data_processing_options',
        'invalid_data_processing_options',
        "Must be [] (no Limited Data Use) or ['LDU'].",
      );
      return;
    }
    ldu = options.length === 1;
    out.data_processing_options = ldu ? ['LDU'] : [];
  }
  if (!ldu) {
    if (country !== undefined || state !== undefined) {
      issues.push({
        path: 'data_processing_options',
        code: 'data_processing_location_without_ldu',
        message:
          "data_processing_options_country/_state only apply with data_processing_options ['LDU']; dropped.",
        severity: 'warning',
      });
    }
    return;
  }
  if (country === undefined || country === null) {
    error(
      issues,
      'data_processing_options_country',
      'missing_data_processing_options_country',
      'Limited Data Use needs a country: 1 (United States) or 0 (geolocate from the IP address).',
    );
  } else if (country !== 0 && country !== 1) {
    error(
      issues,
      'data_processing_options_country',
      'invalid_data_processing_options_country',
      'Must be 1 (United States) or 0 (geolocate from the IP address).',
    );
  } else {
    out.data_processing_options_country = country;
  }
  if (state === undefined || state === null) {
    error(
      issues,
      'data_processing_options_state',
      'missing_data_processing_options_state',
      'A Limited Data Use country needs a state too: 1000 (California) or 0 (geolocate from the IP address).',
    );
  } else if (state !== 0 && state !== 1000) {
    error(
      issues,
      'data_processing_options_state',
      'invalid_data_processing_options_state',
      'Must be 1000 (California) or 0 (geolocate from the IP address).',
    );
  } else {
    out.data_processing_options_state = state;
  }
}
