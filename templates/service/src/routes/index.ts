import type { SmartService } from 'smart-service';
import { hello } from './hello.ts';
// plop: route imports

/** Every route of the service (`pnpm generate route <name>` adds one here). */
export async function registerRoutes(app: SmartService) {
  await hello(app);
  // plop: route registrations
}
