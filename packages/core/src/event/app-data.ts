import type { Issue } from './issues.js';
import type { AppData } from './types.js';

// `app_data` is required for app events; `extinfo` holds 16 positional values, `a2` (Android) or
// `i2` (iOS) first, missing values sent as empty strings.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event [SE]

const EXTINFO_LENGTH = 16;

const BOOLEAN_KEYS = ['advertiser_tracking_enabled', 'application_tracking_enabled'] as const;
const STRING_KEYS = [
  'campaign_ids',
  'install_referrer',
  'installer_package',
  'windows_attribution_id',
] as const;
const KNOWN: ReadonlySet<string> = new Set<string>([
  ...BOOLEAN_KEYS,
  ...STRING_KEYS,
  'extinfo',
  'url_schemes',
]);

function error(issues: Issue[], path: string, code: string, message: string): void {
  issues.push({ path, code, message, severity: 'error' });
}

function extinfo(value: unknown, issues: Issue[]): string[] | undefined {
  const path = 'app_data.extinfo';
  if (!Array.isArray(value) || value.length === 0 || value.length > EXTINFO_LENGTH) {
    error(
      issues,
      path,
      'invalid_extinfo',
      'Must be a list of up to 16 strings starting with a2 or i2.',
    );
    return undefined;
  }
  const out: string[] = [];
  for (let i = 0; i < EXTINFO_LENGTH; i++) {
    const item: unknown = value[i];
    if (item === undefined || item === null) out.push('');
    else if (typeof item === 'string') out.push(item);
    else if (typeof item === 'number' && Number.isFinite(item)) out.push(String(item));
    else {
      error(issues, `${path}[${i}]`, 'invalid_extinfo', 'Each extinfo value must be a string.');
      return undefined;
    }
  }
  if (out[0] !== 'a2' && out[0] !== 'i2') {
    error(
      issues,
      `${path}[0]`,
      'invalid_extinfo',
      'The first extinfo value must be a2 (Android) or i2 (iOS).',
    );
    return undefined;
  }
  return out;
}

/**
 * Validates and copies `app_data`, padding `extinfo` to its 16 positions. Required (with `extinfo`)
 * when `actionSource` is `app`. Returns `undefined` when absent or invalid.
 */
export function normalizeAppData(
  input: unknown,
  actionSource: string,
  issues: Issue[],
): AppData | undefined {
  const app = actionSource === 'app';
  if (input === undefined || input === null) {
    if (app)
      error(issues, 'app_data', 'missing_app_data', 'App events need app_data with extinfo.');
    return undefined;
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    error(issues, 'app_data', 'invalid_app_data', 'app_data must be an object.');
    return undefined;
  }
  const source = input as Record<string, unknown>;
  const out: AppData = {};
  for (const key of BOOLEAN_KEYS) {
    const value = source[key];
    if (value === undefined) continue;
    if (typeof value === 'boolean') out[key] = value;
    else error(issues, `app_data.${key}`, 'invalid_type', 'Expected true or false.');
  }
  if (source.extinfo !== undefined) {
    const info = extinfo(source.extinfo, issues);
    if (info !== undefined) out.extinfo = info;
  } else if (app) {
    error(issues, 'app_data.extinfo', 'missing_extinfo', 'App events need app_data.extinfo.');
  }
  for (const key of STRING_KEYS) {
    const value = source[key];
    if (value === undefined) continue;
    if (typeof value === 'string') out[key] = value;
    else error(issues, `app_data.${key}`, 'invalid_type', 'Expected a string.');
  }
  if (source.url_schemes !== undefined) {
    const schemes = source.url_schemes;
    if (Array.isArray(schemes) && schemes.every((s) => typeof s === 'string')) {
      out.url_schemes = [...(schemes as string[])];
    } else {
      error(issues, 'app_data.url_schemes', 'invalid_type', 'Expected a list of strings.');
    }
  }
  for (const key of Object.keys(source)) {
    if (!KNOWN.has(key) && source[key] !== undefined) {
      issues.push({
        path: `app_data.${key}`,
        code: 'unknown_app_data_field',
        message: 'Not a documented app_data field; dropped.',
        severity: 'warning',
      });
    }
  }
  return out;
}
