// app/lead/route.ts
import { track, withCapi } from '@/lib/capi';

export const POST = withCapi(async (request: Request) => {
  const { email } = (await request.json()) as { email: string };
  return Response.json(track('Lead', { user_data: { em: email } })); // { event_id, accepted, issues }
});
