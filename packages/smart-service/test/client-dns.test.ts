import { describe, expect, it, onTestFinished } from 'vitest';
// The smart client's own loopback DNS server (dnsmasq) for its resolver tests.
import { startDnsmasq } from '../../smart-client/test/support/dnsmasq.ts';
import { build, listen } from './helper.ts';

describe('client.via = "dns"', () => {
  it('finds another service through DNS SRV records, without Atlas', async () => {
    const pricing = await build({ name: 'pricing', realm: 'testing' });
    pricing.get('/quote', async () => ({ cost: 42 }));
    const port = Number(new URL(await listen(pricing)).port);
    const dns = await startDnsmasq({
      hosts: ['127.0.0.1 pricing-0.testing.test'],
      srv: [`_http._tcp.pricing.testing.test,pricing-0.testing.test,${port}`],
    });
    onTestFinished(() => dns.stop());
    const shop = await build({
      name: 'shop',
      realm: 'testing',
      env: {
        SMART_CLIENT__VIA: 'dns',
        SMART_CLIENT__DNS__NAME: '_http._tcp.{service}.{realm}.test',
        SMART_CLIENT__DNS__SERVERS: JSON.stringify([dns.server]),
      },
    });
    expect(await shop.client.get('service://pricing/quote')).toEqual({ cost: 42 });
    await expect(shop.client.get('service://unknown/quote')).rejects.toMatchObject({
      code: 'SMART_CLIENT_NO_INSTANCES',
    });
  });
});
