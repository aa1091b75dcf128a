/**
 * The Node.js half of `instrumentation.ts`, in a module of its own so that Next's Edge build of
 * the instrumentation never sees its Node APIs (`process.exit`, signals) and warns about them.
 */
import { registerShutdown } from '@capi-kit/next';
import { exitIfEnvMissing, exitOnStartFailure } from 'capi-kit-example-shared/start';

export async function registerNode(): Promise<void> {
  // `next build` needs no credentials: they are read when the server runs.
  if (process.env.NEXT_PHASE === 'phase-production-build') return;
  exitIfEnvMissing(process.env, 'Next.js');
  const { capi } = await import('@/lib/capi');
  try {
    // The client is made on first use; reading it here makes it now, so a value capi-kit refuses
    // (META_PIXEL_ID not digits…) stops `next start` with one line, as the other examples refuse to
    // start. Unread, the server ran and answered every request while sending nothing.
    void capi.client;
  } catch (error) {
    exitOnStartFailure(error, 'Next.js');
  }
  registerShutdown(capi, { timeoutMs: 5000 });
}
