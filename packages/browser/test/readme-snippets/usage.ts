import { createPixel } from '@capi-kit/browser';

const pixel = createPixel({ pixelId: '1234567890' }); // relays to /capi/events
pixel.pageView();

pixel.track('AddToCart', {
  content_ids: ['sku-1'],
  content_type: 'product',
  value: 19.9,
  currency: 'EUR',
});
// eventID: the order's id, which the server's track() of the Purchase also gets
pixel.track('Purchase', { value: 42, currency: 'USD' }, { eventID: 'order-42' });
pixel.track('WatchedDemo'); // not a standard name: sent with fbq('trackCustom')
