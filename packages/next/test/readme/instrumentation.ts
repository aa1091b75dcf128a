// instrumentation.ts (src/instrumentation.ts with a src/ folder)
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { registerShutdown } = await import('@capi-kit/next');
  const { capi } = await import('@/lib/capi');
  registerShutdown(capi, { timeoutMs: 5000 });
}
