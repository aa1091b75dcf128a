/**
 * Runs once when the Next.js server starts. Under the Node.js runtime it checks the environment
 * (one line and exit code 2 when META_PIXEL_ID or META_ACCESS_TOKEN is missing, like every example)
 * and installs capi-kit's graceful shutdown: on SIGTERM/SIGINT the events tracked so far are
 * delivered within 5 s, and what cannot be is counted and reported, before the process ends
 * (README: Shutdown).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  // `next build` needs no credentials: they are read when the server runs.
  if (process.env.NEXT_PHASE === 'phase-production-build') return;
  const { exitIfEnvMissing } = await import('capi-kit-example-shared');
  exitIfEnvMissing(process.env, 'Next.js');
  const [{ registerShutdown }, { capi }] = await Promise.all([
    import('@capi-kit/next'),
    import('@/lib/capi'),
  ]);
  registerShutdown(capi, { timeoutMs: 5000 });
}
