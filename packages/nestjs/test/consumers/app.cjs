// A CommonJS Nest app, the way `nest new` compiles one, using the built package through its
// `require` export. Decorators are applied with Reflect.decorate, as tsc's CJS output does.
require('reflect-metadata');
const { Body, Controller, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ExpressAdapter } = require('@nestjs/platform-express');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { CapiModule, TrackConversion } = require('@capi-kit/nestjs');

class ShopController {
  buy(body) {
    return { order: body.order };
  }
}
Reflect.decorate(
  [
    Post('buy'),
    TrackConversion('Purchase', {
      map: (result) => ({
        event_id: `order-${result.order}`,
        user_data: { em: 'cjs@example.com' },
        custom_data: { value: 10, currency: 'EUR' },
      }),
    }),
  ],
  ShopController.prototype,
  'buy',
  Object.getOwnPropertyDescriptor(ShopController.prototype, 'buy'),
);
Body()(ShopController.prototype, 'buy', 0);
Reflect.decorate([Controller()], ShopController);

class AppModule {}
Reflect.decorate(
  [
    Module({
      imports: [CapiModule.forRoot({ flushIntervalMs: 60_000 })],
      controllers: [ShopController],
    }),
  ],
  AppModule,
);

async function main() {
  const platform =
    process.env.NEST_PLATFORM === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, platform, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  const res = await fetch(`http://127.0.0.1:${port}/buy`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'cjs-consumer',
      referer: `http://127.0.0.1:${port}/`,
    },
    body: JSON.stringify({ order: 'cjs-1' }),
  });
  const cookies = res.headers.getSetCookie();
  // app.close() runs onApplicationShutdown, which sends the queued event.
  await app.close();
  process.stdout.write(JSON.stringify({ status: res.status, cookies, format: typeof module }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
