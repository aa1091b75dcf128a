// Case q: case b's app (an HTTP server, installShutdownHooks given the first client) with a second
// client the hooks were not given (another destination's, a background job's), whose events wait
// for its next flush (60 s away). The process dies of the re-raised SIGTERM, and Node emits no
// `exit` then: the second client's 10 must be counted as dropped (`shutdown`) and handed to its
// onUndeliverable before that, synchronously. Its line is printed there.
import { createServer } from 'node:http';
import { createCapi, installShutdownHooks } from '@capi-kit/core';
import { config, emit, startClient } from './fault-client.mjs';

const { client, trackAll, report } = startClient();
const second = createCapi({
  pixelId: '2222222222',
  accessToken: process.env.FAULT_TOKEN,
  graphUrl: process.env.FAULT_GRAPH_URL,
  env: false,
  flushIntervalMs: 60_000,
  onUndeliverable: (records, reason) => {
    const { queued, inFlight, dropped } = second.stats();
    emit({
      type: 'second-undeliverable',
      reason,
      ids: records.map((r) => r.eventId),
      stats: { queued, inFlight, shutdown: dropped.shutdown },
    });
  },
});
const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
installShutdownHooks(
  {
    close: async (options) => {
      await client.close(options);
      report({ afterClose: true });
    },
  },
  { timeoutMs: config.shutdownTimeoutMs ?? 5000 },
);
server.once('listening', () => {
  trackAll();
  for (let i = 0; i < 10; i++) {
    second.track({
      event_name: 'Lead',
      event_id: `second-${i}`,
      action_source: 'website',
      event_source_url: 'https://shop.example.com/signup',
      user_data: { client_ip_address: '203.0.113.7', client_user_agent: 'Mozilla/5.0 (X11)' },
    });
  }
  emit({ type: 'tracked' });
});
