/**
 * What to say when a Test Events code is configured while `NODE_ENV` is `production`: a code
 * copied from Events Manager into a shared `.env` or config ships with the deploy, and every live
 * event is then sent as a test event. Meta: remove the code in production, test events are not
 * dropped ([UA], "Test your events"):
 * https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api
 */

import type { ResolvedOptions } from './options.js';

/**
 * The warning to log once at creation, or `undefined` when nothing is wrong. Names the options
 * that set a code (`testEventCode`, `pixels[0].testEventCode`, `META_TEST_EVENT_CODE`, a
 * destination's `testEventCode`), never the code itself.
 */
export const productionTestCodeWarning = (
  resolved: Pick<ResolvedOptions, 'pixels' | 'destinations' | 'production'>,
): { pixelIds: string[]; message: string } | undefined => {
  if (!resolved.production) return undefined;
  const pixelIds: string[] = [];
  const options = new Set<string>();
  for (const pixel of resolved.pixels) {
    if (pixel.testEventCode === undefined) continue;
    pixelIds.push(pixel.pixelId);
    options.add(pixel.testEventCodeOption ?? 'testEventCode');
  }
  for (const { destination, envelope, stream } of resolved.destinations) {
    if (envelope.testEventCode === undefined) continue;
    pixelIds.push(stream);
    options.add(`the ${destination.label ?? destination.name} destination's testEventCode`);
  }
  if (pixelIds.length === 0) return undefined;
  const named = [...options].join(', ');
  // Meta's words where a Meta pixel has a code; a destination's own code is its platform's test
  // mode, of which only the platform's own rules can be said.
  const meta = resolved.pixels.some((pixel) => pixel.testEventCode !== undefined);
  const what = meta
    ? "every event is sent as a test event (test_event_code) and shows in Events Manager's Test Events; Meta says to remove the code in production"
    : 'every event of that platform is sent as a test event, for its test tools';
  return {
    pixelIds,
    message: `capi-kit: ${named} is set while NODE_ENV is production, so ${what}. Remove ${named} from the production configuration and set it only where you test. Told once.`,
  };
};
