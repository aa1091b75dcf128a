import { createCapi } from '@capi-kit/core';

const capi = createCapi();
capi.track({
  event_name: 'Purchase',
  custom_data: { value: 49.9, currency: 'EUR', custom_properties: { coupon: 'SPRING' } },
});
// on the wire: "custom_data": { "value": 49.9, "currency": "EUR", "coupon": "SPRING" }
