import { capi } from '@capi-kit/express';
import express from 'express';

export const app = express();
app.use(express.json());
// pixelId and accessToken default to META_PIXEL_ID and META_ACCESS_TOKEN.
export const tracking = capi({ trustProxy: 'loopback' });
app.use(tracking);

app.post('/lead', (req, res) => {
  const { event_id } = req.capi.track('Lead', { user_data: { em: req.body.email } });
  res.json({ event_id }); // give it to the browser Pixel too, so Meta deduplicates
});
