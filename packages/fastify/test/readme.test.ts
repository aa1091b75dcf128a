import * as checks from '../../../scripts/test-support/package-checks.ts';
import { responseTracker } from './fixtures.js';

// README code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json` checks;
// the usage and checkout snippets run as shown.
checks.describeReadmeSnippets(import.meta.url, {
  title: 'the usage and route config snippets work as shown (built package)',
  test: async (mock) => {
    // The snippets import '@capi-kit/fastify' by name: the built package.
    const { app } = await import('./readme-snippets/usage.js');
    await import('./readme-snippets/checkout.js');
    const responses = responseTracker(app);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    let leadId = '';
    try {
      const running = {
        url,
        request: (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, init),
      };
      leadId = await checks.postLeadAndCheckout(running);
      await responses.settled();
    } finally {
      // As in the shutdown snippet: closing the app sends what is queued.
      await app.close();
    }
    checks.expectLeadAndPurchase(mock, leadId);
  },
});
