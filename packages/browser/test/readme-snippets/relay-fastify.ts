// Fastify: registers POST /capi/events in its own scope (its parsers stay untouched)
import { capiPlugin } from '@capi-kit/fastify';
import Fastify from 'fastify';

export const app = Fastify();
await app.register(capiPlugin, { trustProxy: 'loopback', relay: true });
