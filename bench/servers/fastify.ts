// (b) bare Fastify with its default pino request logging on (two lines per request, to stdout).
import Fastify from 'fastify';
import { reportPort } from './report.ts';

const app = Fastify({ logger: true });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port: 0, host: '127.0.0.1' });
reportPort((app.server.address() as { port: number }).port);
