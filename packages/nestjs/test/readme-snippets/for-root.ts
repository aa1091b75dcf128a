import { CapiModule } from '@capi-kit/nestjs';
import { Module } from '@nestjs/common';

@Module({
  imports: [
    // pixelId and accessToken default to META_PIXEL_ID and META_ACCESS_TOKEN.
    CapiModule.forRoot({ trustProxy: 'loopback', isGlobal: true }),
  ],
})
export class AppModule {}
