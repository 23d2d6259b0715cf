import { createSmartService, currentApp, defineConfig, secret } from 'smart-service';
import { z } from 'zod';

const config = defineConfig({
  schema: z.object({ greeting: z.string(), apiToken: z.string() }),
  defaults: { greeting: 'hello', apiToken: secret({ local: 'dev-token' }) },
  realms: { production: { greeting: 'good day' } },
});

const app = await createSmartService({ name: 'hello', version: '1.0.0', config });

app.get('/hello/:name', async (request) => {
  const { name } = request.params as { name: string };
  request.log.info({ name }, 'greeting someone');
  return { message: `${app.config.greeting}, ${name}`, realm: currentApp().realm };
});

await app.start();
