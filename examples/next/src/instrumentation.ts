/**
 * Runs once when the Next.js server starts. Under the Node.js runtime it installs capi-kit's
 * graceful shutdown: on SIGTERM/SIGINT the events tracked so far are delivered within 5 s, and
 * what cannot be is counted and reported, before the process ends (README: Shutdown).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const [{ registerShutdown }, { capi }] = await Promise.all([
    import('@capi-kit/next'),
    import('@/lib/capi'),
  ]);
  registerShutdown(capi, { timeoutMs: 5000 });
}
