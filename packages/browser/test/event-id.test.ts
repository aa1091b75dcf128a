import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventId } from '../src/index.js';
import { UUID_V4 } from './fake-browser.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('eventId', () => {
  it('uses crypto.randomUUID when there is one', () => {
    const randomUUID = vi.fn(() => '0b0e5f8c-2b1f-4c1e-9c3a-7d2f1a6b8e90');
    vi.stubGlobal('crypto', { randomUUID });
    expect(eventId()).toBe('0b0e5f8c-2b1f-4c1e-9c3a-7d2f1a6b8e90');
    expect(randomUUID).toHaveBeenCalledOnce();
  });

  it('builds a UUID v4 from getRandomValues where randomUUID is missing (plain http)', () => {
    vi.stubGlobal('crypto', { getRandomValues: (bytes: Uint8Array) => bytes.fill(0xff) });
    expect(eventId()).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    vi.stubGlobal('crypto', { getRandomValues: (bytes: Uint8Array) => bytes.fill(0) });
    expect(eventId()).toBe('00000000-0000-4000-8000-000000000000');
  });

  it('produces distinct v4 UUIDs from getRandomValues', () => {
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', {
      getRandomValues: (bytes: Uint8Array) => real.getRandomValues(bytes),
    });
    const ids = Array.from({ length: 1000 }, eventId);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(1000);
  });

  it('still returns a v4 UUID without Web Crypto', () => {
    vi.stubGlobal('crypto', undefined);
    const ids = Array.from({ length: 100 }, eventId);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(100);
  });
});
