import { createCapi } from '@capi-kit/core';

// pixelId and accessToken default to META_PIXEL_ID and META_ACCESS_TOKEN.
const capi = createCapi({ pixelId: '1234567890', accessToken: process.env.META_ACCESS_TOKEN });

// In your checkout: ip and ua are the visitor's IP address and user agent (getRequestContext).
export function trackPurchase(ip: string, ua: string) {
  const { event_id, accepted, issues } = capi.track({
    event_name: 'Purchase',
    event_source_url: 'https://shop.example/checkout',
    user_data: { em: 'Jane.Doe@Example.com', client_ip_address: ip, client_user_agent: ua },
    custom_data: { value: 59.9, currency: 'EUR', order_id: 'A-1001' },
  });
  return { event_id, accepted, issues };
}

await capi.close(); // on shutdown: delivers what is queued, within a deadline
