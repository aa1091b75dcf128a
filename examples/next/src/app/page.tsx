import { MetaPixel } from '@capi-kit/next/client';
import { trackConversion } from '@/lib/capi';
import { ConversionButtons } from './conversion-buttons';
import { SignupForm } from './signup-form';

/**
 * The landing page: the server tracks PageView and renders the Pixel firing the same event ID, so
 * Meta counts the view once. `trackConversion` reads the request (headers, cookies) itself.
 */
export default async function Home() {
  const { event_id } = await trackConversion('PageView');
  return (
    <main>
      <MetaPixel
        pixelId={process.env.META_PIXEL_ID ?? ''}
        scriptUrl={process.env.META_PIXEL_SCRIPT_URL}
        events={[{ event_name: 'PageView', event_id }]}
      />
      <h1>capi-kit Next.js example</h1>
      <p>
        This page view was sent to Meta twice, by the Pixel and by the server, with one event ID.
      </p>
      <SignupForm />
      <ConversionButtons />
    </main>
  );
}
