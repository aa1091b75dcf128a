// NestJS: a middleware on the path, under the app's global prefix (the start warns; point
// createPixel's relay there, or setGlobalPrefix('api', { exclude: ['capi/events'] }))
import { STANDARD_EVENTS } from '@capi-kit/core';
import { CapiModule } from '@capi-kit/nestjs';

// in your AppModule's imports
export const capiModule = CapiModule.forRoot({
  trustProxy: 'loopback',
  relay: { allowEvents: [...STANDARD_EVENTS, 'WatchedDemo'] },
});
