import { CapiService } from '@capi-kit/nestjs';
import { Injectable } from '@nestjs/common';

@Injectable()
export class SignupService {
  constructor(private readonly capi: CapiService) {}

  completed(email: string, request: object): string {
    // With the request, its IP, user agent, _fbp/_fbc and page URL are filled in.
    const { event_id } = this.capi.track(
      { event_name: 'CompleteRegistration', user_data: { em: email } },
      request,
    );
    return event_id;
  }
}
