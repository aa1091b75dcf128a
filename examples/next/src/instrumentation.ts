/**
 * Runs once when the Next.js server starts. Under the Node.js runtime it checks the environment
 * (one line and exit code 2 when META_PIXEL_ID or META_ACCESS_TOKEN is missing, like every example)
 * and installs capi-kit's graceful shutdown: on SIGTERM/SIGINT the events tracked so far are
 * delivered within 5 s, and what cannot be is counted and reported, before the process ends
 * (README: Shutdown).
 */
export async function register() {
  // Next's recommended split: the Edge bundle of this file then holds no Node-only code.
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { registerNode } = await import('./instrumentation-node');
    await registerNode();
  }
}
