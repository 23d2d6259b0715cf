// Atlas for the bench, its own process; config from the environment.
import { createAtlas } from 'smart-atlas';
import { reportPort } from './report.ts';

const atlas = await createAtlas();
await atlas.listen({ port: 0, host: '127.0.0.1' });
reportPort((atlas.server.address() as { port: number }).port);
