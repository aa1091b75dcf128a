// app/actions.ts
'use server';
import { createNextCapi } from '@capi-kit/next';

const { withConversion } = createNextCapi(); // META_PIXEL_ID, META_ACCESS_TOKEN from the env

export const signup = withConversion(
  'CompleteRegistration',
  async (_state: unknown, form: FormData) => ({ ok: form.has('email') }), // create the account here
  async (_result, _state, form) => ({ user_data: { em: String(form.get('email')) } }),
);
