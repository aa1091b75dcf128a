// Express: served by the middleware itself (a JSON body parser before it is optional)
import { capi } from '@capi-kit/express';
import express from 'express';

export const app = express();
app.use(
  capi({
    trustProxy: 'loopback',
    // res.locals.user: whatever your authentication middleware set for the request
    relay: { identify: (req) => req.res?.locals.user && { external_id: req.res.locals.user.id } },
  }),
);
