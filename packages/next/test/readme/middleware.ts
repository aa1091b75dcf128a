// middleware.ts (Next 15): capi-kit composed with your own middleware
import { capiProxy } from '@capi-kit/next/proxy';
import { type NextRequest, NextResponse } from 'next/server';

export default capiProxy({
  next: (request: NextRequest) =>
    request.cookies.has('session')
      ? undefined
      : NextResponse.redirect(new URL('/login', request.url)),
});
