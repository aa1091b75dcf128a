import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createCapi } from '@capi-kit/core';
import { createNextCapi, createRelayRoute, type NextCapiOptions } from '@capi-kit/next';
import * as kit from '@capi-kit/testing/adapter-kit';

// The behaviour every adapter shares, from @capi-kit/testing's conformance kit, through App Router
// route handlers wrapped in `withCapi` and a `createRelayRoute` relay. The server below stands in
// for `next start` the way the other tests hand Next's requests over: a Web `Request` whose body
// streams from the socket, the browser's host in `Host`, and the peer address written into
// `X-Forwarded-For` when the request has none (Next's `base-server` does `??=`).

/** A route module's handler; the second argument (`{ params }`) is unused here. */
type RouteHandler = (request: Request, context: object) => Promise<Response>;

/** Serves route handlers by path; a path without one is 404, as in Next. */
async function serveRoutes(routes: ReadonlyMap<string, RouteHandler>) {
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    if (!headers.has('x-forwarded-for') && req.socket.remoteAddress !== undefined)
      headers.set('x-forwarded-for', req.socket.remoteAddress);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://localhost:3000${req.url}`, {
      method: req.method,
      headers,
      ...(hasBody ? { body: Readable.toWeb(req), duplex: 'half' } : {}),
    } as RequestInit);
    const handler = routes.get(new URL(request.url).pathname);
    let response: Response;
    try {
      response =
        handler === undefined ? new Response(null, { status: 404 }) : await handler(request, {});
    } catch {
      response = new Response(null, { status: 500 });
    }
    for (const [name, value] of response.headers)
      if (name !== 'set-cookie') res.setHeader(name, value);
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
    res.writeHead(response.status);
    res.end(Buffer.from(await response.arrayBuffer()));
  };
  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const nextDriver: kit.AdapterDriver = {
  name: 'Next.js route handlers',
  // withCapi appends the cookies to the response the handler made.
  cookieOrder: ['csrf', 'session', 'theme', '_fbp', '_fbc'],
  // Next exposes no socket address: the last X-Forwarded-For hop stands in for it.
  socketPeer: false,
  // A route module exporting only POST: Next itself answers other methods (405, no Allow), and
  // its server (here the stand-in above) decides what becomes of an oversized upload's connection.
  relayAnswersOtherMethods: false,
  relayKeepsOversizedConnections: true,
  // withCapi sends each request's events when the request ends (kept alive by after()/waitUntil).
  deliversPerRequest: true,
  errorSources: { map: "withCapi event 'Purchase' map", track: "withCapi event 'Purchase' track" },
  createClient: (options) => createCapi(options),
  async start({ capi: options }) {
    const { relay, ...adapterOptions } = options as NextCapiOptions & {
      relay?: boolean | (Record<string, unknown> & { path?: string });
    };
    const capi = createNextCapi(adapterOptions);
    const { withCapi } = capi;
    const json = (body: unknown, status = 200) => Response.json(body, { status });
    const routes = new Map<string, RouteHandler>([
      [
        '/kit/call',
        withCapi(async (request: Request) => {
          const requestCapi = {
            track: capi.track as (nameOrEvent: string | object, params?: object) => unknown,
            eventId: capi.eventId,
            get context() {
              return capi.requestContext();
            },
          };
          return json(await kit.answerKitCall(request.headers.get('x-kit-call'), requestCapi));
        }),
      ],
      [
        '/kit/cookies',
        withCapi(async () => {
          const response = new Response('ok');
          for (const cookie of [
            'csrf=1; Path=/',
            'session=abc; Path=/; HttpOnly',
            'theme=dark; Path=/',
          ])
            response.headers.append('set-cookie', cookie);
          return response;
        }),
      ],
      [
        '/kit/purchase',
        withCapi(
          async (request: Request) => {
            const status = Number(new URL(request.url).searchParams.get('status') ?? 200);
            return json({ ok: status < 400 }, status);
          },
          { event: 'Purchase', map: () => kit.KIT_PURCHASE },
        ),
      ],
      [
        '/kit/throws',
        withCapi(
          async () => {
            throw new Error('handler failed');
          },
          { event: 'Purchase', map: () => kit.KIT_PURCHASE },
        ),
      ],
      [
        '/kit/bad-map',
        withCapi(async () => json({ created: true }, 201), {
          event: 'Purchase',
          map: () => {
            throw new Error('map exploded');
          },
        }),
      ],
      ['/kit/no-map', withCapi(async () => json({ ok: true }), { event: 'CompleteRegistration' })],
      // Next answers HEAD with the GET handler when the route exports no HEAD: one handler here.
      ['/kit/view', withCapi(async () => new Response('view'), { event: 'ViewContent' })],
      [
        '/kit/invalid-purchase',
        // The types reject a Purchase without currency; JavaScript callers reach this run-time path.
        withCapi(async () => json({ ok: true }), {
          event: 'Purchase',
          map: () => kit.KIT_INVALID_PURCHASE as never,
        }),
      ],
      ['/capi/other', async (request) => json({ n: ((await request.json()) as { n: number }).n })],
    ]);
    if (relay) {
      const { path = '/capi/events', ...rules } = relay === true ? {} : relay;
      const route = createRelayRoute({ ...adapterOptions, ...rules, capi });
      routes.set(path, async (request) =>
        request.method === 'POST' ? route.POST(request) : new Response(null, { status: 405 }),
      );
    }
    const server = await serveRoutes(routes);
    return {
      url: server.url,
      client: capi.client,
      // withCapi tracks before it returns the response.
      settled: async () => {},
      close: async () => {
        await server.close();
        // Every client createNextCapi made in this process (a shared `client` stays open): the
        // kit closes one app's before it starts the next, except around a shared client.
        await capi.close();
      },
    };
  },
};

kit.describeAdapterConformance(nextDriver);
