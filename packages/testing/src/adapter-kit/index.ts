/**
 * `@capi-kit/testing/adapter-kit`: what every capi-kit framework adapter must do, written once as
 * vitest suites that run against a small per-framework driver (real servers on loopback, the mock
 * Graph API over HTTP). capi-kit's own adapters run it; so can an adapter for another framework.
 */
import { describe } from 'vitest';
import { describeConversions } from './conversions.js';
import { describeCookies } from './cookies.js';
import { describeDestinations } from './destinations.js';
import type { AdapterDriver } from './driver.js';
import { kitFor } from './kit.js';
import { describeLifecycle } from './lifecycle.js';
import { describeRelay } from './relay.js';
import { describeRequestContext } from './request-context.js';
import { describeResilience } from './resilience.js';

export type {
  AdapterDriver,
  KitApp,
  KitClient,
  KitErrorInfo,
  KitRequestCapi,
  KitStartOptions,
  KitStats,
  RelayVariant,
} from './driver.js';
export { KIT_CALL_HEADER, KIT_INVALID_PURCHASE, KIT_PURCHASE } from './driver.js';
export { answerKitCall, type KitCall, type KitCallAnswer } from './kit-call.js';

/**
 * Declares the conformance suites for one adapter (call it at the top level of a test file): the
 * request context captured, cookies written beside the app's own, `track` bound to the request,
 * destinations beside Meta served from the request, route-level tracking only after success, capi-kit failures never failing the request, the relay,
 * shutdown delivering what is queued, typed results.
 * @example describeAdapterConformance({ name: 'Express 5', cookieOrder: ['csrf', 'session', '_fbp', '_fbc', 'theme'], start: startExpressKitApp })
 */
export function describeAdapterConformance(driver: AdapterDriver): void {
  describe(`${driver.name}: adapter conformance`, () => {
    const kit = kitFor(driver);
    describeRequestContext(kit);
    describeCookies(kit);
    describeDestinations(kit);
    describeConversions(kit);
    describeResilience(kit);
    describeLifecycle(kit);
    describeRelay(kit);
  });
}
