import { MetaPixel, TikTokPixel } from '@capi-kit/next/client';
import { tiktokPixelFromEnv } from 'capi-kit-example-shared';
import Link from 'next/link';
import { trackConversion } from '@/lib/capi';
import { ConversionButtons } from './conversion-buttons';
import { SignupForm } from './signup-form';

/**
 * The landing page: the server tracks PageView and renders the Pixel firing the same event ID, so
 * Meta counts the view once. `trackConversion` reads the request (headers, cookies) itself. With
 * TikTok configured (TIKTOK_PIXEL_CODE, TIKTOK_ACCESS_TOKEN) the server's PageView goes to TikTok
 * too, and `<TikTokPixel/>` fires TikTok's browser copy with the same event ID.
 */
export default async function Home() {
  const { event_id } = await trackConversion('PageView');
  const events = [{ event_name: 'PageView', event_id }];
  const tiktok = tiktokPixelFromEnv(process.env);
  return (
    <main>
      <MetaPixel
        pixelId={process.env.META_PIXEL_ID ?? ''}
        scriptUrl={process.env.META_PIXEL_SCRIPT_URL}
        events={events}
      />
      {tiktok && (
        <TikTokPixel pixelCode={tiktok.pixelCode} scriptUrl={tiktok.scriptUrl} events={events} />
      )}
      <h1>capi-kit Next.js example</h1>
      <p>
        {tiktok
          ? 'This page view was sent to Meta and to TikTok, each by its Pixel and by the server, with one event ID.'
          : 'This page view was sent to Meta twice, by the Pixel and by the server, with one event ID.'}
      </p>
      <SignupForm />
      <ConversionButtons />
      <Link href="/about">About this example</Link>
    </main>
  );
}
