import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit';
import { startTestApp, type TestApp } from '../support/http';
import { TEST_DRIVERS } from '../support/db';

/**
 * Issue 11: `webhookUrl` accepted loopback, link-local and private addresses, and the server then
 * POSTed there and reported the status: an internal port scanner. Only literal addresses and
 * localhost names here, so no test needs DNS.
 */
const INTERNAL = [
  'http://127.0.0.1:8080/v1/keys',
  'https://127.0.0.1/hook',
  'https://2130706433/hook',
  'https://localhost:5432/',
  'https://api.localhost/',
  'https://[::1]/hook',
  'https://[::ffff:127.0.0.1]/hook',
  'https://[::ffff:a00:1]/hook',
  'https://10.0.0.5/hook',
  'https://172.16.3.4/hook',
  'https://192.168.1.1/admin',
  'https://100.64.0.1/',
  'https://169.254.169.254/latest/meta-data/iam/',
  'https://[fd00:ec2::254]/latest/meta-data/',
  'https://[fe80::1]/',
  'https://224.0.0.1/',
  'https://0.0.0.0:22/',
  'https://[::]/',
];

async function putWebhook(t: TestApp, headers: Record<string, string>, webhookUrl: string) {
  return t.app.inject({
    method: 'PUT',
    url: '/v1/trade/settings/par_platform_alpha',
    headers,
    payload: { webhookUrl, webhookSecret: 'whsec_0123456789abcdef' },
  });
}

describe.each(TEST_DRIVERS)('webhook URLs reach public endpoints only, on %s', (driver) => {
  let t: TestApp;
  let supervisor: { authorization: string };
  beforeAll(async () => {
    t = await startTestApp({ driver });
    supervisor = await t.keyFor('supervisor', 'scheme');
  });
  afterAll(async () => t.close());

  it.each(INTERNAL)('refuses %s with 400 naming webhookUrl', async (url) => {
    const response = await putWebhook(t, supervisor, url);
    expect(response.statusCode, response.body).toBe(400);
    const body = response.json<{ code: string; issues: { field: string; message: string }[] }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.issues[0]?.field).toBe('webhookUrl');
    expect(body.issues[0]?.message).toMatch(/publicly reachable host/);
  });

  it('accepts a public address, and plain http on simnet (regtest)', async () => {
    const https = await putWebhook(t, supervisor, 'https://93.184.215.14/tradeclear');
    expect(https.statusCode, https.body).toBe(200);
    expect(https.json()).toMatchObject({ webhookUrl: 'https://93.184.215.14/tradeclear' });
    const http = await putWebhook(t, supervisor, 'http://93.184.215.14/tradeclear');
    expect(http.statusCode, http.body).toBe(200);
    const settings = await t.app.inject({
      method: 'GET',
      url: '/v1/trade/settings/par_platform_alpha',
      headers: supervisor,
    });
    expect(settings.json()).toMatchObject({ webhookUrl: 'http://93.184.215.14/tradeclear' });
    expect((await verifyAuditChain(t.db.orm)).ok).toBe(true);
  });
});

describe('webhook URLs off regtest', () => {
  let t: TestApp;
  let supervisor: { authorization: string };
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        CHAIN: 'esplora',
        NETWORK: 'testnet',
        ESPLORA_URL: 'https://esplora.example/testnet/api',
        SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      },
    });
    supervisor = await t.keyFor('supervisor', 'scheme');
  });
  afterAll(async () => t.close());

  it('must be https: webhooks carry payment events signed with the platform secret', async () => {
    const http = await putWebhook(t, supervisor, 'http://93.184.215.14/tradeclear');
    expect(http.statusCode, http.body).toBe(400);
    expect(http.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'webhookUrl', message: expect.stringMatching(/https/) as unknown }],
    });
    const https = await putWebhook(t, supervisor, 'https://93.184.215.14/tradeclear');
    expect(https.statusCode, https.body).toBe(200);
  });
});
