// (f) bare Fastify, logger off: the floor every Fastify-based server starts from.
import Fastify from 'fastify';
import { reportPort } from './report.ts';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port: 0, host: '127.0.0.1' });
reportPort((app.server.address() as { port: number }).port);
