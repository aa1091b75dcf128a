#!/usr/bin/env node
// A null Graph endpoint for the throughput bench: reads the body, answers 200 with
// events_received, validates nothing. Shows the client's own ceiling next to the mock's figure.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  let events = 0;
  let tail = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    const text = tail + chunk;
    events += text.split('"event_name"').length - 1;
    tail = text.slice(-16);
    if (tail.includes('"event_name"')) tail = '';
  });
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"events_received":${events},"messages":[],"fbtrace_id":"SINK"}`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`sink listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
