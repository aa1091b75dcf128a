import { createCapi } from '@capi-kit/core';
import { capi } from '@capi-kit/express';
import express from 'express';

// One client (one queue, one connection pool) for the web app and for background jobs.
export const client = createCapi({ pixelId: '1234567890', accessToken: 'token' });

const app = express();
app.use(capi({ client, trustProxy: 'loopback' }));
