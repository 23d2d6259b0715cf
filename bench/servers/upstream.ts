// An upstream for the client bench: node:http, `{"ok":true}`; with SLOW_PERCENT set, that share of requests answers after SLOW_MS.
import { createServer } from 'node:http';
import { reportPort } from './report.ts';

const slowPercent = Number(process.env.SLOW_PERCENT ?? 0);
const slowMs = Number(process.env.SLOW_MS ?? 1000);
let served = 0;
const body = '{"ok":true}';
const server = createServer((_req, res) => {
  served++;
  const answer = () =>
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  if (slowPercent > 0 && Math.random() * 100 < slowPercent) setTimeout(answer, slowMs);
  else answer();
});
server.listen(0, '127.0.0.1', () => reportPort((server.address() as { port: number }).port));
process.on('message', (message) => {
  if (message === 'served') process.send?.({ served });
});
