import type { SmartService } from 'smart-service';
// plop: check imports

/**
 * Readiness checks of the service's own (database and Redis checks come
 * with smart-service). `pnpm generate check <name>` adds one here.
 */
export function registerChecks(app: SmartService) {
  void app;
  // plop: check registrations
}
