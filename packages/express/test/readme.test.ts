import express from 'express';
import * as checks from '../../../scripts/test-support/package-checks.ts';
import { finishTracker, listen } from './fixtures.js';

// README code blocks are the files in test/readme-snippets, which `tsc -p tsconfig.json` checks;
// the usage and checkout snippets run as shown.
checks.describeReadmeSnippets(import.meta.url, {
  title: 'the usage and trackConversion snippets work as shown (built package)',
  test: async (mock) => {
    // The snippets import '@capi-kit/express' by name: the built package.
    const { app, tracking } = await import('./readme-snippets/usage.js');
    await import('./readme-snippets/checkout.js');
    const finished = finishTracker();
    const outer = express();
    outer.use(finished.middleware, app);
    const running = await listen(outer);
    try {
      const leadId = await checks.postLeadAndCheckout(running);
      await finished.settled();
      await tracking.close();
      checks.expectLeadAndPurchase(mock, leadId);
    } finally {
      await running.close();
    }
  },
});
