import { createCapi } from '@capi-kit/core';
import * as kit from '@capi-kit/testing/adapter-kit';
import { type CapiFastifyOptions, type CapiRouteConfig, capiPlugin } from '../src/index.js';
import { listen, MAJORS, responseTracker } from './fixtures.js';

// The behaviour every adapter shares, from @capi-kit/testing's conformance kit, on both majors.
// This file is only the translation: the kit's routes as Fastify routes with `config.capi`.

const OWN_PARSER = "after the app's own JSON parser (1 MiB limit)";

/** `config.capi` of a route. */
const conversion = (capi: CapiRouteConfig) => ({ config: { capi } });

const fastifyDriver = ({ name, fastify }: (typeof MAJORS)[number]): kit.AdapterDriver => ({
  name,
  // csrf and session from an onRequest hook before the plugin's, theme from the handler.
  cookieOrder: ['csrf', 'session', '_fbp', '_fbc', 'theme'],
  relayVariants: [
    { name: "with Fastify's JSON parser", parsesJsonFirst: false },
    // Registered before the plugin, with a limit far above the relay's: the relay route still
    // hands the stream to the relay, which reads it with its own cap.
    { name: OWN_PARSER, parsesJsonFirst: false },
  ],
  errorSources: { map: 'Purchase params', track: 'Purchase track' },
  createClient: (options) => createCapi(options),
  async start({ capi: options, variant }) {
    const app = fastify();
    if (variant === OWN_PARSER) {
      app.addContentTypeParser(
        'application/json',
        { parseAs: 'string', bodyLimit: 1024 * 1024 },
        (_request, body, done) => done(null, JSON.parse(String(body))),
      );
    }
    app.addHook('onRequest', (request, reply, done) => {
      if (request.url.split('?', 1)[0] === '/kit/cookies') {
        reply.header('set-cookie', ['csrf=1; Path=/', 'session=abc; Path=/; HttpOnly']);
      }
      done();
    });
    await app.register(capiPlugin, options as CapiFastifyOptions);
    const responses = responseTracker(app);
    app.all('/kit/call', (request) =>
      kit.answerKitCall(request.headers['x-kit-call'], request.capi),
    );
    app.get('/kit/cookies', (_request, reply) => {
      reply.header('set-cookie', 'theme=dark; Path=/');
      return 'ok';
    });
    // What the handler computed, for `map` to read once the reply is sent.
    const purchases = new WeakMap<object, typeof kit.KIT_PURCHASE>();
    const purchase = conversion({
      event: 'Purchase',
      map: (request) => {
        const params = purchases.get(request);
        // A Purchase map must return value and currency; the handler set them for every < 400.
        if (params === undefined) throw new Error('no purchase for this request');
        return params;
      },
    });
    app.post<{ Querystring: { status?: string } }>(
      '/kit/purchase',
      purchase,
      async (request, reply) => {
        const status = Number(request.query.status ?? 200);
        purchases.set(request, kit.KIT_PURCHASE);
        return reply.code(status).send({ ok: status < 400 });
      },
    );
    app.post('/kit/throws', purchase, async () => {
      throw new Error('handler failed');
    });
    const badMap = conversion({
      event: 'Purchase',
      map: () => {
        throw new Error('map exploded');
      },
    });
    app.post('/kit/bad-map', badMap, async (_request, reply) =>
      reply.code(201).send({ created: true }),
    );
    app.get('/kit/view', conversion({ event: 'ViewContent' }), async (_request, reply) =>
      reply.type('text/plain').send('view'),
    );
    app.post('/kit/no-map', conversion({ event: 'CompleteRegistration' }), async () => ({
      ok: true,
    }));
    // The types reject a Purchase without currency; JavaScript callers reach this run-time path.
    const invalid = conversion({ event: 'Purchase', map: () => kit.KIT_INVALID_PURCHASE as never });
    app.post('/kit/invalid-purchase', invalid, async () => ({ ok: true }));
    // The app's own JSON route keeps its JSON parser: the relay's parser is scoped.
    app.post<{ Body: { n: number } }>('/capi/other', async (request) => ({ n: request.body.n }));
    const { url } = await listen(app);
    return { url, client: app.capiClient, settled: responses.settled, close: () => app.close() };
  },
});

for (const major of MAJORS) kit.describeAdapterConformance(fastifyDriver(major));
