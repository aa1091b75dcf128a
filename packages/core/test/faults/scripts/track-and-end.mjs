// Tracks the same invalid Purchase a few times and then simply ends: no close(), no signal. The
// feedback's summary of the repeats must still be printed before the process exits on its own.
import { createCapi } from '@capi-kit/core';

const capi = createCapi({
  pixelId: '1234567890',
  accessToken: 'child-token',
  graphUrl: 'http://127.0.0.1:9',
  env: { NODE_ENV: 'development' },
});
for (let i = 0; i < 3; i++) {
  capi.track({ event_name: 'Purchase', event_source_url: 'https://shop.example/', user_data: {} });
}
