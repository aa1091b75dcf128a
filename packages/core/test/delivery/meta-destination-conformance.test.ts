// The destination contract of @capi-kit/testing, run against Meta's own destination: what every
// platform beside it is held to, Meta is held to as well.
import { describeDestinationConformance } from '@capi-kit/testing/destination-kit';
import { metaBuild, metaDestination } from '../../src/delivery/meta-destination.js';
import { resolveOptions } from '../../src/delivery/options.js';

const TOKEN = 'EAAkitTOKEN0123456789abcdef';

const endpoint = () => {
  const pixel = resolveOptions({ pixelId: '1234567890', accessToken: TOKEN, env: false }).pixels[0];
  if (pixel === undefined) throw new Error('no pixel resolved');
  return pixel.endpoint;
};

describeDestinationConformance({
  name: 'Meta (the default destination)',
  create: () => metaDestination('1234567890', endpoint(), metaBuild({})),
  secrets: [TOKEN],
});
