import { readLead, userDataOf } from 'capi-kit-example-shared';
import { track, withCapi } from '@/lib/capi';

/** `POST /edge/lead`: `/lead` on the Edge runtime (Web Crypto, fetch, pure-JS hashing). */
export const runtime = 'edge';

export const POST = withCapi(async (request: Request) => {
  const parsed = readLead({
    contentType: request.headers.get('content-type'),
    body: await request.json().catch(() => undefined),
  });
  if ('rejection' in parsed) {
    return Response.json(parsed.rejection.body, { status: parsed.rejection.status });
  }
  const { event_id } = track('Lead', { user_data: userDataOf(parsed.lead) });
  return Response.json({ event_id });
});
