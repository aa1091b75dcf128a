import { type CapiOptions, type Destination, type PixelConfig, streamKey } from '@capi-kit/core';

// Which stream a worker can send, and how: a job's `pixelId` is a stream key (Meta's bare pixel
// id, `<destination>:<id>` for the others, core's `streamKey`), and each stream the worker knows
// gets the engine options of a one-stream client (docs/destinations.md).

/** Where a job of one stream goes: a Meta pixel of this worker's, or another destination. */
export interface Route {
  /** The stream key (`1234…`, `tiktok:C4…`). */
  key: string;
  /** The platform as messages name it (`Meta`, `TikTok`). */
  label: string;
  /** `createCapi` options of a client with this stream alone. */
  engine: CapiOptions;
  /** The platform's upload window (`isExpired`); undefined for Meta's own. */
  maxAgeSeconds: Destination['limits']['maxAgeSeconds'];
}

/** What configures the streams of a worker (`CapiWorkerOptions`). */
export interface RouteOptions {
  pixelId?: string | undefined;
  accessToken?: string | undefined;
  pixels?: readonly PixelConfig[] | undefined;
  destinations?: readonly Destination[] | undefined;
}

const given = (value: string | undefined) => value !== undefined && value.trim() !== '';

/** The worker's streams by key, with the Meta pixels and destinations they come from. */
export const workerRoutes = (
  options: RouteOptions,
  engineOptions: CapiOptions,
  env: Readonly<Record<string, string | undefined>>,
): { routes: Map<string, Route>; pixels: PixelConfig[]; destinations: Destination[] } => {
  const destinations = [...(options.destinations ?? [])];
  // As createCapi decides: Meta is left out only when destinations are given and nothing at all
  // configures Meta (a TikTok-only worker); half a Meta configuration is still an error.
  const withoutMeta =
    destinations.length > 0 &&
    (options.pixels === undefined || options.pixels.length === 0) &&
    !given(options.pixelId ?? env.META_PIXEL_ID) &&
    !given(options.accessToken ?? env.META_ACCESS_TOKEN);
  // As createCapi refuses: `pixels` replaces pixelId, whose jobs would find no route here.
  if (
    options.pixels !== undefined &&
    options.pixels.length > 0 &&
    given(options.pixelId) &&
    !options.pixels.some((p) => p?.pixelId?.trim() === options.pixelId?.trim())
  ) {
    throw new TypeError(
      'createCapiWorker: pixelId is given beside pixels, which replace it, so its events would not be sent: list every pixel in pixels ([{ pixelId, accessToken }, …]) and leave pixelId out',
    );
  }
  const pixels: PixelConfig[] = withoutMeta
    ? []
    : options.pixels && options.pixels.length > 0
      ? options.pixels.map((p) => ({ ...p, pixelId: p.pixelId.trim() }))
      : [
          {
            pixelId: (options.pixelId ?? env.META_PIXEL_ID ?? '').trim(),
            accessToken: (options.accessToken ?? env.META_ACCESS_TOKEN ?? '').trim(),
          },
        ];
  const routes = new Map<string, Route>();
  for (const pixel of pixels) {
    routes.set(pixel.pixelId, {
      key: pixel.pixelId,
      label: 'Meta',
      engine: { ...engineOptions, pixels: [pixel] },
      maxAgeSeconds: undefined,
    });
  }
  for (const destination of destinations) {
    const key = streamKey(destination);
    routes.set(key, {
      key,
      label: destination.label ?? destination.name,
      // This stream alone: no Meta pixel from options or the META_* environment beside it.
      engine: { ...engineOptions, env: false, destinations: [destination] },
      maxAgeSeconds: destination.limits.maxAgeSeconds,
    });
  }
  return { routes, pixels, destinations };
};

/** What to configure for a stream a worker cannot send: names the stream, never a token. */
export const missingConfig = (key: string): string => {
  const colon = key.indexOf(':');
  return colon < 0
    ? `add pixels: [{ pixelId: '${key}', accessToken }] (or pixelId/accessToken) to createCapiWorker`
    : `add the ${key.slice(0, colon)} destination for id ${key.slice(colon + 1)} to createCapiWorker({ destinations }), as the producers' createCapi has it`;
};
