/**
 * What to say when an outbox hands events to another process (a BullMQ queue's workers) while
 * this client has a Test Events code: the code rides in the request body this client would send
 * (Meta's `test_event_code`, a destination's envelope prefix for TikTok's), so the workers send
 * those events with their own code or none, and the app's test events count as live ones.
 */

import type { ResolvedOptions } from './options.js';
import type { OutboxRecord } from './outbox/types.js';

/**
 * A function to call with every batch of delegated records: the first time one of them is for a
 * stream with a Test Events code, it returns the warning (naming the stream) and marks it said;
 * otherwise `undefined`. Said once per client.
 */
export const delegatedTestCodeWarning = (
  resolved: Pick<ResolvedOptions, 'pixels' | 'destinations'>,
): ((delegated: readonly OutboxRecord[]) => { pixelId: string; message: string } | undefined) => {
  let told = false;
  const testCodes = new Map(resolved.pixels.map((p) => [p.pixelId, p.testEventCode]));
  const destinationLabels = new Map<string, string>();
  for (const { destination, envelope, stream } of resolved.destinations) {
    testCodes.set(stream, envelope.testEventCode);
    destinationLabels.set(stream, destination.label ?? destination.name);
  }
  return (delegated) => {
    if (told) return undefined;
    const pixelId = delegated.find((r) => testCodes.get(r.pixelId) !== undefined)?.pixelId;
    if (pixelId === undefined) return undefined;
    told = true;
    const label = destinationLabels.get(pixelId);
    const message =
      label === undefined
        ? `capi-kit: testEventCode is set on this client, but its outbox hands the events to another process (a queue's workers), which sends them with its own Test Events code or none: set testEventCode (or META_TEST_EVENT_CODE) where they are delivered (createCapiWorker), or these test events count as live ones. Told once.`
        : `capi-kit: testEventCode is set on this client's ${label} destination, but its outbox hands the events to another process (a queue's workers), which sends them with its own destination's code or none: set testEventCode on the ${label} destination where they are delivered (createCapiWorker's destinations), or these test events count as live ones. Told once.`;
    return { pixelId, message };
  };
};
