// (a) bare node:http: the floor.
import { createServer } from 'node:http';
import { reportPort } from './report.ts';

const body = JSON.stringify({ hello: 'world' });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => reportPort((server.address() as { port: number }).port));
