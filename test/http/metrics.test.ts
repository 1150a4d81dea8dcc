import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http';
import { loadConfig } from '../../src/kernel';
import { openTwoTenants, type TwoTenants } from '../support/two-tenants';

/**
 * GET /metrics: Prometheus's text format with requests by route pattern (never an id), gate
 * decisions by outcome, and the process's own figures; loopback only without METRICS_TOKEN, and
 * only with the token when one is set.
 */
const value = (text: string, line: RegExp): number => {
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').at(-1)) : 0;
};

describe('metrics', () => {
  let t: TwoTenants;

  beforeAll(async () => {
    t = await openTwoTenants('pglite');
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts requests by route pattern and gate decisions by outcome', async () => {
    const scrape = async () => {
      const response = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/plain');
      return response.body;
    };
    const before = await scrape();
    const invoiceId = await t.invoice();
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/invoices/${invoiceId}`,
      headers: t.B.company,
    });
    expect(read.statusCode).toBe(200);
    const after = await scrape();

    const allowed = /^tradeclear_gate_decisions_total\{outcome="allow"\}/;
    expect(value(after, allowed)).toBe(value(before, allowed) + 1);
    const byPattern =
      /^tradeclear_http_requests_total\{method="GET",route="\/v1\/invoices\/:id",status="200"\}/;
    expect(value(after, byPattern)).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain(invoiceId);
    expect(after).toMatch(
      /^tradeclear_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/v1\/invoices\/:id"\}/m,
    );
    expect(after).toMatch(/^tradeclear_process_resident_memory_bytes \d+/m);
    // The scrape itself is not counted.
    expect(after).not.toContain('route="/metrics"');
  });

  it('answers only with the METRICS_TOKEN when one is configured', async () => {
    const token = 'metrics-token-0123456789';
    const app = await buildApp({
      db: t.db,
      clock: { now: () => new Date() },
      services: t.services,
      config: loadConfig({ LOG_LEVEL: 'silent', METRICS_TOKEN: token }),
    });
    try {
      const ask = (authorization?: string) =>
        app.inject({
          method: 'GET',
          url: '/metrics',
          ...(authorization ? { headers: { authorization } } : {}),
        });
      expect((await ask()).statusCode).toBe(403);
      expect((await ask('Bearer metrics-token-wrong-456789')).statusCode).toBe(403);
      const ok = await ask(`Bearer ${token}`);
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('tradeclear_gate_decisions_total');
    } finally {
      await app.close();
    }
  });

  it('refuses a scrape from another machine without a token', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '203.0.113.9',
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
    // Nor one a proxy on this machine forwarded (it arrives from loopback).
    const proxied = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(proxied.statusCode).toBe(403);
  });
});
