// An ESM Nest app using the built package through its `import` export.
import 'reflect-metadata';
import { CapiModule, CapiService } from '@capi-kit/nestjs';
import { Controller, Get, Module, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

class LeadController {
  constructor(capi) {
    this.capi = capi;
  }
  lead(request) {
    return this.capi.track(
      { event_name: 'Lead', user_data: { em: 'esm@example.com' }, event_id: 'esm-1' },
      request,
    );
  }
}
Reflect.decorate(
  [Get('lead')],
  LeadController.prototype,
  'lead',
  Object.getOwnPropertyDescriptor(LeadController.prototype, 'lead'),
);
Req()(LeadController.prototype, 'lead', 0);
Reflect.decorate([Controller()], LeadController);
Reflect.defineMetadata('design:paramtypes', [CapiService], LeadController);

class AppModule {}
Reflect.decorate(
  [
    Module({
      imports: [CapiModule.forRoot({ flushIntervalMs: 60_000 })],
      controllers: [LeadController],
    }),
  ],
  AppModule,
);

const platform =
  process.env.NEST_PLATFORM === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
const app = await NestFactory.create(AppModule, platform, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();
const res = await fetch(`http://127.0.0.1:${port}/lead`, {
  headers: { 'user-agent': 'esm-consumer', referer: `http://127.0.0.1:${port}/` },
});
const body = await res.json();
await app.close();
process.stdout.write(JSON.stringify({ status: res.status, body, format: typeof module }));
