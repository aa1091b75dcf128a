// Meta's Pixel stub (pixel-stub.ts) over HTTP: the script at `GET /fbevents.js`, and its events
// at `POST /tr`, answered like Meta's pixel endpoint (no content). Both are fetched from the app's
// pages, on another origin. Not logged in `mock.requests()`, which is the Graph API's log.
import type { IncomingMessage } from 'node:http';
import { type Answer, CROSS_ORIGIN, methodNotAllowed, textAnswer } from './answers.js';
import { MAX_BEACON_BYTES, PIXEL_STUB_SCRIPT, parseBeacon } from './pixel-stub.js';
import type { MockBrowserEvent } from './recorder.js';
import { readBody } from './request-body.js';

const SCRIPT_PATH = '/fbevents.js';
const BEACON_PATH = '/tr';

// Any method: a POST to /fbevents.js is a wrong request for the script, not a Graph path (Graph
// would answer 400 and log it in `mock.requests()`).
/** Whether the stub answers the request: anything to its script's path or to `/tr`. */
export const isPixelStubRoute = (pathname: string): boolean =>
  pathname === BEACON_PATH || pathname === SCRIPT_PATH;

/** The answer to a request {@link isPixelStubRoute} picked; `keep` records a beacon's event. */
export const pixelStubAnswer = async (
  req: IncomingMessage,
  pathname: string,
  method: string,
  keep: (event: MockBrowserEvent) => void,
): Promise<Answer> => {
  if (pathname === SCRIPT_PATH) {
    if (method !== 'GET' && method !== 'HEAD') {
      return methodNotAllowed('GET, HEAD', 'The Pixel stub is fetched with GET.');
    }
    return {
      status: 200,
      headers: { ...CROSS_ORIGIN, 'content-type': 'text/javascript; charset=utf-8' },
      body: PIXEL_STUB_SCRIPT,
    };
  }
  if (method === 'OPTIONS') {
    return {
      status: 204,
      headers: {
        ...CROSS_ORIGIN,
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
      },
      body: '',
    };
  }
  if (method !== 'POST') {
    return methodNotAllowed('POST, OPTIONS', 'The Pixel stub posts events to /tr.');
  }
  const raw = await readBody(req, MAX_BEACON_BYTES);
  if (raw.tooLarge) return textAnswer(413, `A Pixel event is at most ${MAX_BEACON_BYTES} bytes.`);
  const parsed = parseBeacon(raw.bytes.toString('utf8'), {
    hasUserAgent: req.headers['user-agent'] !== undefined,
    hasIp: req.socket.remoteAddress !== undefined,
    receivedAt: Date.now(),
  });
  if (!parsed.ok) return textAnswer(400, `Not a Pixel stub event: ${parsed.reason}.`);
  keep(parsed.event);
  return { status: 204, headers: { ...CROSS_ORIGIN }, body: '' };
};
