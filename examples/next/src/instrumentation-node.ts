/**
 * The Node.js half of `instrumentation.ts`, in a module of its own so that Next's Edge build of
 * the instrumentation never sees its Node APIs (`process.exit`, signals) and warns about them.
 */
import { registerShutdown } from '@capi-kit/next';
import { exitIfEnvMissing } from 'capi-kit-example-shared/start';

export async function registerNode(): Promise<void> {
  // `next build` needs no credentials: they are read when the server runs.
  if (process.env.NEXT_PHASE === 'phase-production-build') return;
  exitIfEnvMissing(process.env, 'Next.js');
  const { capi } = await import('@/lib/capi');
  registerShutdown(capi, { timeoutMs: 5000 });
}
