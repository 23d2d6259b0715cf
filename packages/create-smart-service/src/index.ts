/**
 * create-smart-service: the generator behind `npx create-smart-service <name>`.
 *
 * @example
 * import { generate, validateName } from 'create-smart-service';
 * const files = await generate({ name: validateName('orders') && 'orders', db: true, redis: false, packageManager: 'pnpm' });
 */
export { type Io, main } from './cli.ts';
export { CreateError, type CreateErrorCode, codes } from './errors.ts';
export { type Answers, type GeneratedFile, generate, TEMPLATE_DIR } from './generate.ts';
export { gitInit, install } from './steps.ts';
export { targetDir, validateName } from './validate.ts';
export { writeFiles } from './write.ts';
