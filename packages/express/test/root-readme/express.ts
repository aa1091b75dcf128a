// The root README's "Express" block follows the "README below" line, as the README shows it:
// `tsc -p tsconfig.json` checks that it compiles, test/root-readme.test.ts that the README still
// shows it. The README leaves `app` and `checkout` to the reader: declared here.
declare const app: import('express').Express;
declare const checkout: import('express').RequestHandler;

// README below
import { pixelSnippet } from '@capi-kit/core'; // npm install @capi-kit/express @capi-kit/core
import { capi, trackConversion } from '@capi-kit/express';
import express from 'express';

app.use(express.json()); // req.body for /lead below
app.use(
  capi({
    pixelId: '1234567890',
    accessToken: process.env.META_ACCESS_TOKEN,
    trustProxy: 'loopback',
  }),
);

app.get('/', (req, res) => {
  const { event_id } = req.capi.track('PageView'); // IP, user agent, URL, _fbp/_fbc filled in
  res.send(
    `<head>${pixelSnippet({ pixelId: '1234567890', events: [{ event_name: 'PageView', event_id }] })}</head>`,
  );
});
app.post('/lead', (req, res) => {
  const { event_id } = req.capi.track('Lead', { user_data: { em: req.body.email } });
  res.json({ event_id }); // the page fires its Pixel Lead with this eventID (through the relay: confirmed)
});
app.post(
  '/checkout',
  trackConversion('Purchase', (_req, res) => res.locals.purchase),
  checkout,
);
