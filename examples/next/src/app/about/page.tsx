import { MetaPixel } from '@capi-kit/next/client';
import Link from 'next/link';
import { trackConversion } from '@/lib/capi';

/**
 * `GET /about`, reached from the landing page's `<Link>`: Next's router prefetches it while the
 * link is on screen (no page view: Next renders no page for its default prefetch), and a click
 * renders it on the client, a page view of `/about` with the same event ID on both sides.
 */
export default async function About() {
  const { event_id } = await trackConversion('PageView');
  return (
    <main>
      <MetaPixel
        pixelId={process.env.META_PIXEL_ID ?? ''}
        scriptUrl={process.env.META_PIXEL_SCRIPT_URL}
        events={[{ event_name: 'PageView', event_id }]}
      />
      <h1>About this example</h1>
      <Link href="/">Back to the landing page</Link>
    </main>
  );
}
