import { readLead, userDataOf } from 'capi-kit-example-shared';
import { track, withCapi } from '@/lib/capi';

/** `POST /lead`: `track` is bound to this request by `withCapi` (no request argument). */
export const POST = withCapi(async (request: Request) => {
  const parsed = readLead({
    contentType: request.headers.get('content-type'),
    // A body that is not JSON is `undefined` here: readLead answers it like every example does.
    body: await request.json().catch(() => undefined),
  });
  if ('rejection' in parsed) {
    return Response.json(parsed.rejection.body, { status: parsed.rejection.status });
  }
  const { event_id } = track('Lead', { user_data: userDataOf(parsed.lead) });
  return Response.json({ event_id });
});
