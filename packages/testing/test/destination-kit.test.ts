// The destination contract, run against TikTok's destination (imported from source: @capi-kit/tiktok
// depends on the core, which has this package as a dev dependency). Meta's own destination runs
// it in the core's tests.

import { tiktok } from '../../tiktok/src/index.js';
import { describeDestinationConformance } from '../src/destination-kit/index.js';

const TOKEN = 'tt-kit-token-9f8e7d6c5b4a';

describeDestinationConformance({
  name: 'tiktok()',
  create: () => tiktok({ pixelCode: 'C4KITPIXEL01', accessToken: TOKEN, testEventCode: 'TEST1' }),
  secrets: [TOKEN],
  captures: { ttclid: 'E.C.P.kit-click', _ttp: 'kit-ttp-1' },
});
