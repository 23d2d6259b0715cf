import type { SmartServiceOptions } from 'smart-service';
import { divisibilityService } from './divides.ts';

/** fizz: is n divisible by 3? */
export const build = (options: Partial<SmartServiceOptions> = {}) =>
  divisibilityService('fizz', 3, import.meta.dirname, options);
