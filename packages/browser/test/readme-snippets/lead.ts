import { createPixel } from '@capi-kit/browser';

const pixel = createPixel({ pixelId: '1234567890' });
pixel.track('Lead', { content_name: 'newsletter' }, { eventID: 'lead-42' });
// fbq('track', 'Lead', { content_name: 'newsletter' }, { eventID: 'lead-42' })
// ttq.track('Lead', { description: 'newsletter' }, { event_id: 'lead-42' })
// POST /capi/events  { …, events: [{ event_name: 'Lead', event_id: 'lead-42', … }] }
