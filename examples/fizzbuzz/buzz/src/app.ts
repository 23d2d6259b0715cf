import type { SmartServiceOptions } from 'smart-service';
import { divisibilityService } from '../../fizz/src/divides.ts';

/** buzz: is n divisible by 5? */
export const build = (options: Partial<SmartServiceOptions> = {}) =>
  divisibilityService('buzz', 5, import.meta.dirname, options);
