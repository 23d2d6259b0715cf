#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createSidecarService } from '../src/sidecar-service.ts';

const usage = `smart-sidecar: a local HAProxy kept in step with Atlas; services call it with x-smart-service.

  smart-sidecar --atlas <url> --realm <realm> --listen <port>

  --atlas <url>      Atlas (default SMART_ATLAS_URL; SMART_ATLAS_TOKEN is its token)
  --realm <realm>    the realm whose services are routed (default SMART_REALM, then local)
  --listen <port>    the port services call (default SMART_SIDECAR__LISTEN, then 4180)
  --dir <folder>     where haproxy.cfg and HAProxy's sockets live (default .smart/sidecar)
  Every sidecar.* config key can be set as SMART_SIDECAR__<KEY> (see the README).`;

const { values } = parseArgs({
  options: {
    atlas: { type: 'string' },
    realm: { type: 'string' },
    listen: { type: 'string' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

// Flags are config like any other source: they become the variables the config reads.
const env = { ...process.env };
if (values.atlas) env.SMART_ATLAS_URL = values.atlas;
if (values.realm) env.SMART_SIDECAR__REALM = values.realm;
if (values.listen) env.SMART_SIDECAR__LISTEN = values.listen;
if (values.dir) env.SMART_SIDECAR__DIR = values.dir;

try {
  const app = await createSidecarService({ env });
  await app.start();
} catch (err) {
  const error = err as Error & { code?: string };
  console.error(`smart-sidecar: ${error.code ? `${error.code}: ` : ''}${error.message}`);
  process.exit(1);
}
