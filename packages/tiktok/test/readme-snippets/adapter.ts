import { capi } from '@capi-kit/express'; // Express here; every adapter takes the same option
import { tiktok } from '@capi-kit/tiktok';
import express from 'express';

export const app = express();
app.use(
  capi({
    // Meta's pixelId and accessToken: META_PIXEL_ID and META_ACCESS_TOKEN when left out.
    destinations: [
      tiktok({
        pixelCode: process.env.TIKTOK_PIXEL_CODE ?? '',
        accessToken: process.env.TIKTOK_ACCESS_TOKEN ?? '',
      }),
    ],
  }),
);
app.post('/checkout', (req, res) => {
  // Both platforms, one event_id: fire the TikTok Pixel (and Meta's) with it for deduplication.
  const { event_id } = req.capi.track('Purchase', {
    custom_data: { value: 59.9, currency: 'EUR', order_id: 'A-1001' },
  });
  res.json({ event_id });
});
