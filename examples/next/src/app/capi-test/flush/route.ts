import { capi } from '@/lib/capi';

/**
 * TEST ONLY (`CAPI_EXAMPLE_TEST=1`, else 404): sends what is queued and answers once every event
 * tracked so far was attempted, so the contract suite can inspect the mock Graph API.
 */
export async function POST() {
  if (process.env.CAPI_EXAMPLE_TEST !== '1') return new Response(null, { status: 404 });
  await capi.flush();
  return new Response(null, { status: 204 });
}
