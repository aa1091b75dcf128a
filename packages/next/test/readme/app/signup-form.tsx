// app/signup-form.tsx
'use client';
import { MetaPixel, trackPixel } from '@capi-kit/next/client';
import { useActionState, useEffect } from 'react';
import { signup } from './actions';

export function SignupForm() {
  const [state, action] = useActionState(signup, null);
  useEffect(() => {
    if (state?.event_id) trackPixel('CompleteRegistration', {}, { eventID: state.event_id });
  }, [state]);
  return (
    <form action={action}>
      <MetaPixel pixelId="1234567890" />
      <input name="email" type="email" />
    </form>
  );
}
