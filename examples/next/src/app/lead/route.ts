import { readJsonRequest, readLead, userDataOf } from 'capi-kit-example-shared';
import { track, withCapi } from '@/lib/capi';

/** `POST /lead`: `track` is bound to this request by `withCapi` (no request argument). */
export const POST = withCapi(async (request: Request) => {
  // readJsonRequest applies the rules Express's and Fastify's parsers apply in the other examples
  // (UTF-8 JSON only, 100 KB, no prototype-poisoning keys): request.json() applies none of them.
  const json = await readJsonRequest(request);
  const parsed =
    'rejection' in json
      ? json
      : readLead({ contentType: request.headers.get('content-type'), body: json.body });
  if ('rejection' in parsed) {
    return Response.json(parsed.rejection.body, { status: parsed.rejection.status });
  }
  const { event_id } = track('Lead', { user_data: userDataOf(parsed.lead) });
  return Response.json({ event_id });
});
