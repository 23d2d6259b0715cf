import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createClient, dnsResolver } from '../src/index.ts';
import { json } from './helper.ts';
import { type DnsServer, startDnsmasq } from './support/dnsmasq.ts';

let dns: DnsServer;
let pricing: Server;
let pricingPort: number;

beforeAll(async () => {
  pricing = createServer((req, res) => json(res, 200, { path: req.url }));
  await new Promise<void>((resolve) => pricing.listen(0, '127.0.0.1', resolve));
  pricingPort = (pricing.address() as AddressInfo).port;
  dns = await startDnsmasq({
    hosts: ['127.0.0.1 pricing-0.testing.test', '127.0.0.1 billing.testing.test', '127.0.0.1 moving.testing.test'],
    srv: [
      `_http._tcp.pricing.testing.test,pricing-0.testing.test,${pricingPort},0,10`,
      // A backup at a lower priority (a higher number): not used while the first answers.
      `_http._tcp.pricing.testing.test,pricing-9.testing.test,9,5,10`,
    ],
    ttlSeconds: 2,
  });
});
afterAll(async () => {
  await dns?.stop();
  pricing.closeAllConnections();
  await new Promise((resolve) => pricing.close(resolve));
});

describe('dnsResolver', () => {
  it('resolves a service through SRV records (host and port) and calls it', async () => {
    const client = createClient({
      realm: 'testing',
      resolver: dnsResolver({ name: '_http._tcp.{service}.{realm}.test', servers: [dns.server] }),
    });
    onTestFinished(() => client.close());
    expect(await client.get('service://pricing/quote?sku=7')).toEqual({ path: '/quote?sku=7' });
  });

  it('resolves A records at the configured port', async () => {
    const resolver = dnsResolver({ name: '{service}.{realm}.test', records: 'a', port: 8080, servers: [dns.server] });
    expect(await resolver.resolve('billing', 'testing')).toEqual([
      { id: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' },
    ]);
  });

  it('keeps an answer for its TTL, then follows the changed record', async () => {
    const resolver = dnsResolver({ name: '{service}.{realm}.test', records: 'a', port: 8080, servers: [dns.server] });
    const first = await resolver.resolve('moving', 'testing');
    expect(first?.map((e) => e.origin)).toEqual(['http://127.0.0.1:8080']);
    await dns.setHosts([
      '127.0.0.1 pricing-0.testing.test',
      '127.0.0.1 billing.testing.test',
      '127.0.0.2 moving.testing.test',
    ]);
    // Within the 2 s TTL: the same answer, from memory (synchronously, no lookup).
    expect(resolver.resolve('moving', 'testing')).toBe(first);
    await sleep(2_100);
    const later = await resolver.resolve('moving', 'testing');
    expect(later?.map((e) => e.origin)).toEqual(['http://127.0.0.2:8080']);
  });

  it('fails a name that does not resolve with SMART_CLIENT_NO_INSTANCES, opening no socket', async () => {
    const client = createClient({
      realm: 'testing',
      resolver: dnsResolver({ name: '_http._tcp.{service}.{realm}.test', servers: [dns.server] }),
      retry: { baseMs: 1, capMs: 1 },
    });
    onTestFinished(() => client.close());
    const sockets: unknown[] = [];
    const onSocket = (message: unknown) => sockets.push(message);
    subscribe('net.client.socket', onSocket);
    onTestFinished(() => {
      unsubscribe('net.client.socket', onSocket);
    });
    await expect(client.get('service://nowhere/x')).rejects.toMatchObject({ code: 'SMART_CLIENT_NO_INSTANCES' });
    expect(sockets).toEqual([]);
    // The channel does report the sockets a call opens: a name that resolves opens one.
    await client.get('service://pricing/quote');
    expect(sockets.length).toBeGreaterThan(0);
  });

  it('is SMART_CLIENT_UNAVAILABLE when DNS does not answer and there is no earlier answer', async () => {
    const resolver = dnsResolver({ name: '{service}.test', records: 'a', servers: ['127.0.0.1:9'], timeoutMs: 200 });
    await expect(resolver.resolve('billing', 'testing')).rejects.toMatchObject({ code: 'SMART_CLIENT_UNAVAILABLE' });
  });

  it('checks its options when made', () => {
    expect(() => dnsResolver({ name: 'static.test' })).toThrow(/\{service\}/);
    expect(() => dnsResolver({ records: 'a', port: 0 })).toThrow(/port/);
  });
});
