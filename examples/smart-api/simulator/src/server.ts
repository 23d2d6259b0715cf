// Starts the service (smart dev runs this file).
import { build } from './app.ts';

const app = await build();
await app.start();
