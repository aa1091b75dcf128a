#!/usr/bin/env node
// One contender of the event-build bench, in a fresh process (no JIT state shared with the others):
// `node build-worker.mjs <capi|sdk|raw> <warmupMs> <measureMs>`. Builds fully populated events
// (normalized, hashed, serialized) in a loop and prints one JSON line: events per wall second and
// per CPU second, and a sample output.
import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fullEvent, loadCore } from './lib.mjs';

const [contender, warmupMs, measureMs] = process.argv.slice(2);
const now = Date.now();
const inputs = Array.from({ length: 1000 }, (_, i) => fullEvent(i, now));
const PII = ['em', 'ph', 'fn', 'ln', 'ct', 'st', 'zp', 'country', 'external_id'];

/** capi-kit: `buildEvent` (validate, normalize, hash) + `JSON.stringify` of the wire event. */
const capiBuilder = async () => {
  const { buildEvent } = await loadCore();
  return (input) => {
    const { event, issues } = buildEvent(input);
    if (issues.length > 0) throw new Error(JSON.stringify(issues));
    return JSON.stringify(event);
  };
};

/** Meta's SDK: ServerEvent + UserData + CustomData + Content, `.normalize()`, `JSON.stringify`. */
const sdkBuilder = () => {
  const { ServerEvent, UserData, CustomData, Content } = createRequire(import.meta.url)(
    'facebook-nodejs-business-sdk',
  );
  return (input) => {
    const u = input.user_data;
    const c = input.custom_data;
    const userData = new UserData()
      .setEmails([u.em])
      .setPhones([u.ph])
      .setFirstNames([u.fn])
      .setLastNames([u.ln])
      .setCities([u.ct])
      .setStates([u.st])
      .setZips([u.zp])
      .setCountries([u.country])
      .setExternalIds([u.external_id])
      .setClientIpAddress(u.client_ip_address)
      .setClientUserAgent(u.client_user_agent)
      .setFbp(u.fbp)
      .setFbc(u.fbc);
    const customData = new CustomData()
      .setCurrency(c.currency)
      .setValue(c.value)
      .setContentType(c.content_type)
      .setContentIds(c.content_ids)
      .setContents(
        c.contents.map((x) =>
          new Content().setId(x.id).setQuantity(x.quantity).setItemPrice(x.item_price),
        ),
      )
      .setNumItems(c.num_items)
      .setOrderId(c.order_id);
    const event = new ServerEvent()
      .setEventName(input.event_name)
      .setEventId(input.event_id)
      .setEventTime(input.event_time)
      .setActionSource(input.action_source)
      .setEventSourceUrl(input.event_source_url)
      .setUserData(userData)
      .setCustomData(customData);
    return JSON.stringify(event.normalize());
  };
};

/**
 * The floor any implementation pays: one `crypto.hash` SHA-256 per value Meta wants hashed (the 9
 * PII fields; IP, UA, fbp, fbc are sent as they are) and `JSON.stringify` of the same wire shape.
 * No validation, no normalization.
 */
const rawBuilder = () => (input) => {
  const u = input.user_data;
  const user_data = {};
  for (const key of PII) user_data[key] = [hash('sha256', u[key], 'hex')];
  user_data.client_ip_address = u.client_ip_address;
  user_data.client_user_agent = u.client_user_agent;
  user_data.fbc = u.fbc;
  user_data.fbp = u.fbp;
  return JSON.stringify({
    event_name: input.event_name,
    event_time: input.event_time,
    event_id: input.event_id,
    action_source: input.action_source,
    event_source_url: input.event_source_url,
    user_data,
    custom_data: input.custom_data,
  });
};

const build = await { capi: capiBuilder, sdk: sdkBuilder, raw: rawBuilder }[contender]();
let sink = 0;
const loop = (ms) => {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < inputs.length; i++) sink += build(inputs[i]).length;
    n += inputs.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { n, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
};
loop(Number(warmupMs));
const { n, seconds, cpuSeconds } = loop(Number(measureMs));
const sample = build(inputs[1]);
process.stdout.write(
  `${JSON.stringify({
    contender,
    events: n,
    perWallSecond: n / seconds,
    perCpuSecond: n / cpuSeconds,
    cores: cpuSeconds / seconds,
    bytes: sample.length,
    hashes: sample.match(/"[0-9a-f]{64}"/g)?.length ?? 0,
    sink: sink > 0,
  })}\n`,
);
