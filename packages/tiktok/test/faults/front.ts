import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

// A loopback hop in front of the TikTok mock for the one answer the mock's own fault queue cannot
// give: an HTTP 200 whose body is not TikTok's envelope (a captive portal, a proxy's page, an
// endpoint misconfigured to a Meta-like service). While its outage lasts it answers that itself,
// and the request never reaches TikTok, exactly as with a real proxy in the way; otherwise it
// passes requests through unchanged, so the mock stays the record of what TikTok accepted.

/** The 200 bodies the front answers while it is down. */
export type NotTikTok200 = 'html' | 'empty' | 'meta-ack';

const BODIES: Record<NotTikTok200, { type?: string; body: string }> = {
  html: {
    type: 'text/html; charset=utf-8',
    body: '<!DOCTYPE html><html><body><h1>Welcome</h1><p>Sign in to continue.</p></body></html>',
  },
  empty: { body: '' },
  // What Meta answers: JSON, 200, and nothing TikTok's classifier may read as delivery.
  'meta-ack': {
    type: 'application/json',
    body: '{"events_received":50,"messages":[],"fbtrace_id":"AbCdEfFront"}',
  },
};

/** A running front. */
export interface Front {
  /** The URL to give `tiktok({ apiUrl })`: the target's path on the front's port. */
  url: string;
  /** Answer `body` with HTTP 200 to every request until {@link Front.recover}. */
  outage(body: NotTikTok200): Front;
  /** Pass requests through again. */
  recover(): Front;
  /** Requests answered by the front itself. */
  faulted(): number;
  close(): Promise<void>;
}

/**
 * Starts a front on loopback before `target` (an http URL), passing everything through;
 * `onFaulted` is called after each answer of its own.
 */
export const startFront = async (target: string, onFaulted?: () => void): Promise<Front> => {
  const to = new URL(target);
  let down: NotTikTok200 | undefined;
  let faulted = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (down !== undefined) {
        faulted++;
        const { type, body } = BODIES[down];
        res.writeHead(200, type === undefined ? {} : { 'content-type': type });
        res.end(body, () => onFaulted?.());
        return;
      }
      const body = Buffer.concat(chunks);
      const upstream = request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: to.host, 'content-length': String(body.length) },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const front: Front = {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    outage: (body) => {
      down = body;
      return front;
    },
    recover: () => {
      down = undefined;
      return front;
    },
    faulted: () => faulted,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return front;
};
