// app/product/page.tsx: both Pixels fire the server's PageView with its event_id
import { MetaPixel, TikTokPixel } from '@capi-kit/next/client';
import { headers } from 'next/headers';
import { trackConversion } from '@/lib/capi';

export default async function ProductPage() {
  const { event_id } = await trackConversion('PageView');
  const events = [{ event_name: 'PageView', event_id }];
  const nonce = (await headers()).get('x-nonce') ?? undefined;
  return (
    <main>
      <MetaPixel pixelId="1234567890" events={events} nonce={nonce} />
      <TikTokPixel pixelCode="C4A0TIKTOK0CODE" events={events} nonce={nonce} />
    </main>
  );
}
