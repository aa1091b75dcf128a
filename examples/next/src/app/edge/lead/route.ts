import { readJsonRequest, readLead, userDataOf } from 'capi-kit-example-shared';
import { track, withCapi } from '@/lib/capi';

/** `POST /edge/lead`: `/lead` on the Edge runtime (Web Crypto, fetch, pure-JS hashing). */
export const runtime = 'edge';

export const POST = withCapi(async (request: Request) => {
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
