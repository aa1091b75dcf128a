'use client';
import { trackPixel } from '@capi-kit/next/client';
import { useActionState, useEffect } from 'react';
import { type SignupState, signup } from './actions';

/** The signup form: fires the browser copy of CompleteRegistration with the server's event ID. */
export function SignupForm() {
  const [state, action, pending] = useActionState<SignupState, FormData>(signup, undefined);
  useEffect(() => {
    if (state?.event_id) trackPixel('CompleteRegistration', {}, { eventID: state.event_id });
  }, [state?.event_id]);
  return (
    <form action={action}>
      <label>
        Email <input name="email" type="email" required />
      </label>
      <button type="submit" disabled={pending}>
        Sign up
      </button>
      {state?.ok && <p role="status">Thanks for signing up!</p>}
      {state?.error && <p role="alert">{state.error}</p>}
    </form>
  );
}
