import {
  classifyTikTokResponse,
  readTikTokContext,
  type TikTokVerdict,
  tiktokRequest,
  toTikTokEvent,
} from '@capi-kit/tiktok';

/** One order, sent to TikTok with the event_id the TikTok Pixel (and Meta) got for it. */
export async function sendPurchase(
  request: Request,
  order: { id: string; email: string; total: number },
  endpoint?: string, // default: TikTok's /open_api/v1.3/event/track/
): Promise<TikTokVerdict | undefined> {
  const pageUrl = request.headers.get('referer') ?? request.url;
  // The click ID from the landing URL (or its cookie), the TikTok Pixel's _ttp cookie.
  const context = readTikTokContext({
    url: pageUrl,
    cookieHeader: request.headers.get('cookie') ?? undefined,
  });
  const { event, issues } = toTikTokEvent(
    {
      event_name: 'Purchase',
      event_source_url: pageUrl,
      user_data: { em: order.email, client_user_agent: request.headers.get('user-agent') },
      custom_data: { value: order.total, currency: 'USD', order_id: order.id },
    },
    { eventId: order.id, context },
  );
  if (event === undefined) {
    console.warn('not sent to TikTok:', issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    return undefined;
  }
  const { url, headers, body } = tiktokRequest(
    {
      pixelCode: process.env.TIKTOK_PIXEL_CODE ?? '',
      accessToken: process.env.TIKTOK_ACCESS_TOKEN ?? '',
      url: endpoint,
    },
    [event],
  );
  const response = await fetch(url, { method: 'POST', headers, body });
  // verdict.class: 'success' | 'transient' | 'throttled' | 'auth' | 'invalid'
  return classifyTikTokResponse({
    status: response.status,
    body: await response.text(),
    headers: response.headers,
  });
}
