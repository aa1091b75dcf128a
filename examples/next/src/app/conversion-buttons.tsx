'use client';
import { trackPixel } from '@capi-kit/next/client';
import { useState } from 'react';

/**
 * A Lead and a Purchase, each tracked by the server (`POST /lead`, `POST /purchase` answer the
 * event's `event_id`) and then fired by the Pixel with that ID, so Meta counts each pair once.
 */
export function ConversionButtons() {
  const [status, setStatus] = useState('');
  const send = async (
    path: string,
    body: Record<string, unknown>,
    eventName: 'Lead' | 'Purchase',
    customData: Record<string, unknown>,
  ) => {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { event_id?: string; error?: string };
    if (!response.ok || answer.event_id === undefined) {
      setStatus(answer.error ?? `${eventName} failed (${response.status})`);
      return;
    }
    trackPixel(eventName, customData, { eventID: answer.event_id });
    setStatus(`${eventName} sent by the server and the Pixel with event_id ${answer.event_id}`);
  };
  const buyer = { email: 'jane@example.com' };
  const purchase = { value: 42.5, currency: 'USD' };
  return (
    <>
      <p>
        <button type="button" onClick={() => send('/lead', buyer, 'Lead', {})}>
          Sign up (Lead)
        </button>{' '}
        <button
          type="button"
          onClick={() =>
            send(
              '/purchase',
              { ...buyer, ...purchase, order_id: `ORD-${Date.now()}` },
              'Purchase',
              purchase,
            )
          }
        >
          Buy (Purchase)
        </button>
      </p>
      <p aria-live="polite">{status}</p>
    </>
  );
}
