/**
 * create-smart-service: the generator behind `npx create-smart-service <name>`.
 *
 * @example
 * import { generate, validateName } from 'create-smart-service';
 * const files = await generate({ name: validateName('orders') && 'orders', db: true, redis: false, packageManager: 'pnpm' });
 */
export { type Io, main } from './cli.ts';
export { CreateError, type CreateErrorCode, codes } from './errors.ts';
export { type Answers, type GeneratedFile, generate, ownVersion, TEMPLATE_DIR } from './generate.ts';
export { type DetectedPackageManager, detectPackageManager, type PackageManager } from './package-manager.ts';
export { gitInit, install, lockfileOf, versionOf } from './steps.ts';
export { targetDir, validateName } from './validate.ts';
export { writeFiles } from './write.ts';
