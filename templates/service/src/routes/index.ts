import type { SmartService } from 'smart-service';
import { hello, type helloRoutes } from './hello.ts';
// plop: route imports

/**
 * The service's API, for typed clients in the same workspace:
 * `serviceClient<Routes>(app.client, '<this service>')` (smart-service).
 * Across repositories, `smart api client <url>/openapi.json` generates one.
 */
export type Routes = typeof helloRoutes /* plop: route types */;

/** Every route of the service (`pnpm generate route <name>` adds one here). */
export async function registerRoutes(app: SmartService) {
  await hello(app);
  // plop: route registrations
}
