// The OTLP receiver (d) exports to: reads each batch and answers 200, as a collector would.
import { createServer } from 'node:http';
import { reportPort } from './report.ts';

let spans = 0;
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    spans++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.listen(0, '127.0.0.1', () => reportPort((server.address() as { port: number }).port));
process.on('message', (message) => {
  if (message === 'batches') process.send?.({ batches: spans });
});
