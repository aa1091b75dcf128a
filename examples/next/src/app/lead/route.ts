import { parseLead, userDataOf } from 'capi-kit-example-shared';
import { track, withCapi } from '@/lib/capi';

/** `POST /lead`: `track` is bound to this request by `withCapi` (no request argument). */
export const POST = withCapi(async (request: Request) => {
  const parsed = parseLead(await request.json().catch(() => undefined));
  if ('error' in parsed) return Response.json(parsed, { status: 400 });
  const { event_id } = track('Lead', { user_data: userDataOf(parsed.lead) });
  return Response.json({ event_id });
});
