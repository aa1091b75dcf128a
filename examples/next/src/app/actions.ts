'use server';
import { withConversion } from '@/lib/capi';

/** What the signup action decides. */
type SignupResult = { ok: boolean; error?: string };

/** What the signup form shows; `event_id` is added by `withConversion` once the signup is tracked. */
export type SignupState = (SignupResult & { event_id?: string }) | undefined;

/**
 * A Server Action wrapped with `withConversion`: once it succeeds, CompleteRegistration is tracked
 * with the visitor's cookies, IP and user agent, and its `event_id` comes back for the Pixel.
 */
export const signup = withConversion(
  'CompleteRegistration',
  async (_previous: SignupState, form: FormData): Promise<SignupResult> => {
    const email = form.get('email');
    if (typeof email !== 'string' || !email.includes('@')) {
      return { ok: false, error: 'Please enter a valid email address.' };
    }
    // A real app would create the account here.
    return { ok: true };
  },
  // Nothing to track when the action refused the input. `async` because Next 15 rejects every
  // function of a 'use server' file that is not (Next 16 allows it).
  async (result, _previous, form) =>
    result?.ok === false ? null : { user_data: { em: String(form.get('email')) } },
);
