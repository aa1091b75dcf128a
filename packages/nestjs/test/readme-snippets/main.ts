import { NestFactory } from '@nestjs/core';
import { AppModule } from './for-root.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  // SIGTERM → app.close() → CapiModule sends what is still queued before the process exits.
  app.enableShutdownHooks();
  await app.listen(3000);
}
void bootstrap();
