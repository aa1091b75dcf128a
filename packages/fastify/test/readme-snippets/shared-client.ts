import { createCapi } from '@capi-kit/core';
import { capiPlugin } from '@capi-kit/fastify';
import Fastify from 'fastify';

// One client (one queue, one connection pool) for the web app and for background jobs.
export const client = createCapi({ pixelId: '1234567890', accessToken: 'token' });

const app = Fastify();
await app.register(capiPlugin, { client, trustProxy: 'loopback' });
