import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxHost, OutboxRecord } from '@capi-kit/core';

/** A fresh directory for database files; `cleanup()` removes it. */
export const tempDir = (): {
  dir: string;
  file: (name?: string) => string;
  cleanup: () => void;
} => {
  const dir = mkdtempSync(join(tmpdir(), 'capi-outbox-sqlite-'));
  let n = 0;
  return {
    dir,
    file: (name) => join(dir, name ?? `outbox-${n++}.db`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
};

let counter = 0;

/** An outbox record as the engine makes them. */
export const record = (overrides: Partial<OutboxRecord> = {}): OutboxRecord => {
  const n = counter++;
  const eventId = overrides.eventId ?? `e-${n}`;
  const body = JSON.stringify({ event_name: 'Lead', event_id: eventId });
  return {
    id: `r-${n}`,
    pixelId: '111',
    eventId,
    eventName: 'Lead',
    eventTime: Math.floor(Date.now() / 1000),
    actionSource: 'website',
    body,
    bytes: body.length,
    attempts: 0,
    enqueuedAt: Date.now(),
    retryAt: Date.now(),
    ...overrides,
  };
};

/** An {@link OutboxHost} that remembers what it was told, and sends to every pixel. */
export const recordingHost = () => {
  const seen = {
    added: [] as OutboxRecord[],
    recovered: [] as { pixelId: string; count: number; bytes: number }[],
    evicted: [] as OutboxRecord[],
    errors: [] as unknown[],
    warnings: [] as string[],
  };
  const host: OutboxHost = {
    added: (records) => seen.added.push(...records),
    recovered: (pixelId, count, bytes) => {
      seen.recovered.push({ pixelId, count, bytes });
      return true;
    },
    evicted: (records) => seen.evicted.push(...records),
    error: (error) => seen.errors.push(error),
    warn: (message) => seen.warnings.push(message),
  };
  return { host, seen };
};

/** A Lead event the mock Graph API accepts. */
export const leadEvent = (i: number, nowMs = Date.now()) => ({
  event_name: 'Lead' as const,
  event_id: `lead-${i}`,
  event_time: Math.floor(nowMs / 1000),
  action_source: 'website' as const,
  event_source_url: 'https://shop.example.com/signup',
  user_data: {
    em: `customer.${i}@example.com`,
    client_ip_address: '203.0.113.7',
    client_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) capi-kit-test',
  },
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
