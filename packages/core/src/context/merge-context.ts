import type { RequestContext, RequestUserData } from './request-context.js';

/**
 * The fields {@link mergeContext} may fill, typed structurally so any event-input type with these
 * optional fields works. `user_data` is `object` because interface types are not assignable to
 * `Record<string, unknown>` (no implicit index signature).
 */
export interface ContextMergeable {
  user_data?: object | undefined;
  event_source_url?: string | undefined;
  referrer_url?: string | undefined;
  data_processing_options?: readonly string[] | undefined;
  data_processing_options_country?: number | undefined;
  data_processing_options_state?: number | undefined;
}

/**
 * A shallow copy that takes added properties cheaply. On V8, `{ ...source }` gives a copy that
 * every later `obj.key = …` extends slowly (~1 µs per added property on Node 20: 3.5 → 0.12 µs per
 * `mergeContext`, bench/RESULTS.md notes), while `Object.assign({}, source)` does not. Assign runs
 * the target's setters, and `{}` has one, `__proto__`: an own `__proto__` key (JSON.parse makes
 * those) would change the copy's prototype, so that rare input takes the spread.
 */
export function copyForExtension<T extends object>(source: T): T {
  return Object.hasOwn(source, '__proto__') ? { ...source } : Object.assign({}, source);
}

/** What a request adds to a `user_data` it cannot extend: nothing. */
const NO_USER_DATA: RequestUserData = Object.freeze({});

/** The caller's `user_data` copied to be extended (an empty one when there is none). */
function userDataCopy(userData: Readonly<Record<string, unknown>> | undefined): RequestUserData {
  return userData === undefined ? {} : (copyForExtension(userData) as RequestUserData);
}

/**
 * A new event input with what the request knows filled in: `user_data` IP, user agent, `fbp`,
 * `fbc`; `event_source_url`; `referrer_url`; and the LDU fields. A value the input already has
 * (anything but `undefined`) always wins, and an input that sets `data_processing_options` keeps
 * its own LDU choice entirely. Neither argument is mutated.
 * @example capi.track(mergeContext({ event_name: 'Lead', user_data: { em } }, ctx))
 */
export function mergeContext<T extends object>(
  input: T & ContextMergeable,
  context: RequestContext,
): T {
  return fillFromContext(copyForExtension(input), context);
}

/**
 * {@link mergeContext} into `merged`, a copy the caller made and owns (it is mutated and returned;
 * its `user_data` is copied before it is extended, as that object is still the caller's). For
 * `track()`, which has already copied its input to add the event name.
 */
export function fillFromContext<T extends object>(
  merged: T & ContextMergeable,
  context: RequestContext,
): T {
  const input = merged as ContextMergeable;
  const inputUserData = input.user_data as Readonly<Record<string, unknown>> | undefined;
  // Read and written by name, not `context.user_data[key]` over a list of keys or through one
  // helper taking the key: a keyed read or write that sees several keys is a megamorphic lookup on
  // V8, about ten times the price (see `hashedValuesOf`).
  // A `user_data` that is not an object (`null`, an email string, a list) is the caller's mistake,
  // left for the build to report: extended, a string became one key per character (a 1 MB string,
  // a million keys and warnings) and the event went out without it; `null` threw.
  const {
    client_ip_address: ip,
    client_user_agent: agent,
    fbp,
    fbc,
  } = inputUserData === undefined ||
  (typeof inputUserData === 'object' && inputUserData !== null && !Array.isArray(inputUserData))
    ? context.user_data
    : NO_USER_DATA;
  let userData: RequestUserData | undefined;
  if (ip !== undefined && inputUserData?.client_ip_address === undefined) {
    userData ??= userDataCopy(inputUserData);
    userData.client_ip_address = ip;
  }
  if (agent !== undefined && inputUserData?.client_user_agent === undefined) {
    userData ??= userDataCopy(inputUserData);
    userData.client_user_agent = agent;
  }
  if (fbp !== undefined && inputUserData?.fbp === undefined) {
    userData ??= userDataCopy(inputUserData);
    userData.fbp = fbp;
  }
  if (fbc !== undefined && inputUserData?.fbc === undefined) {
    userData ??= userDataCopy(inputUserData);
    userData.fbc = fbc;
  }
  if (userData !== undefined) input.user_data = userData;

  if (input.event_source_url === undefined && context.event_source_url !== undefined) {
    input.event_source_url = context.event_source_url;
  }
  if (input.referrer_url === undefined && context.referrer_url !== undefined) {
    input.referrer_url = context.referrer_url;
  }

  // The three LDU fields only make sense together ([SE]): an explicit data_processing_options
  // (including `[]`, "no LDU") is the caller's whole decision.
  if (
    input.data_processing_options === undefined &&
    context.data_processing_options !== undefined
  ) {
    input.data_processing_options = [...context.data_processing_options];
    const { data_processing_options_country: country, data_processing_options_state: state } =
      context;
    if (input.data_processing_options_country === undefined && country !== undefined) {
      input.data_processing_options_country = country;
    }
    if (input.data_processing_options_state === undefined && state !== undefined) {
      input.data_processing_options_state = state;
    }
  }
  return merged;
}
