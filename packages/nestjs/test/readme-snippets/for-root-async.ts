import { CapiModule } from '@capi-kit/nestjs';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';

@Module({
  imports: [
    ConfigModule.forRoot(),
    CapiModule.forRootAsync({
      isGlobal: true,
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        pixelId: config.getOrThrow<string>('META_PIXEL_ID'),
        accessToken: config.getOrThrow<string>('META_ACCESS_TOKEN'),
        trustProxy: 'loopback',
      }),
    }),
  ],
})
export class AppModule {}
