import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { verifyAuditChain } from '../../src/audit';
import { startTestApp, type TestApp } from '../support/http';
import { TEST_DRIVERS } from '../support/db';

/**
 * Issue 11: NUL, unpaired surrogates and bidi controls in any text field, sats past 2^63 and
 * oversized bodies answered 500, and the error log then held the SQL with its parameters.
 */
const BAD_TEXT: readonly [string, string, RegExp][] = [
  ['NUL', 'ana\u0000', /NUL/],
  ['a lone high surrogate', 'ana\ud800', /surrogate/],
  ['a lone low surrogate', '\udc00ana', /surrogate/],
  ['a right-to-left override', 'ana\u202egpj.exe', /U\+202E/],
  ['a first-strong isolate', 'ana\u2068', /U\+2068/],
];

describe.each(TEST_DRIVERS)('input and output hardening on %s', (driver) => {
  let t: TestApp;
  let supervisor: { authorization: string };
  beforeAll(async () => {
    t = await startTestApp({ driver });
    supervisor = await t.keyFor('supervisor', 'scheme');
  });
  afterAll(async () => t.close());

  it.each(BAD_TEXT)(
    'refuses %s in the anonymous login username with 400 naming the field',
    async (_name, username, reason) => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { username, password: 'whatever password' },
      });
      expect(response.statusCode, response.body).toBe(400);
      const body = response.json<{ code: string; issues: { field: string; message: string }[] }>();
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.issues[0]?.field).toBe('body.username');
      expect(body.issues[0]?.message).toMatch(reason);
    },
  );

  it('refuses bad text in a nested field, an object key, the query string and a path param', async () => {
    const nested = await t.app.inject({
      method: 'PUT',
      url: '/v1/trade/settings/par_platform_alpha',
      headers: supervisor,
      payload: { supervisorThresholds: { 'USD\u0000': '100' } },
    });
    expect(nested.statusCode, nested.body).toBe(400);
    expect(nested.json<{ issues: { field: string }[] }>().issues[0]?.field).toBe(
      'body.supervisorThresholds',
    );
    const query = await t.app.inject({
      method: 'GET',
      url: `/v1/participants?q=${encodeURIComponent('x\u202e')}`,
      headers: supervisor,
    });
    expect(query.statusCode, query.body).toBe(400);
    expect(query.json<{ issues: { field: string }[] }>().issues[0]?.field).toBe('querystring.q');
    const param = await t.app.inject({
      method: 'GET',
      url: '/v1/trade/settings/par%00x',
      headers: supervisor,
    });
    expect(param.statusCode, param.body).toBe(400);
    expect(param.json<{ issues: { field: string }[] }>().issues[0]?.field).toBe(
      'params.platformId',
    );
  });

  it.each(['9223372036854775808', '2100000000000001', '1'.repeat(400)])(
    'refuses the sats string %s with 400 naming the field',
    async (value) => {
      const response = await t.app.inject({
        method: 'PUT',
        url: '/v1/trade/settings/par_platform_alpha',
        headers: supervisor,
        payload: { quorumThresholdSats: value },
      });
      expect(response.statusCode, response.body).toBe(400);
      const body = response.json<{ code: string; issues: { field: string }[] }>();
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.issues[0]?.field).toBe('body.quorumThresholdSats');
    },
  );

  it('refuses a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'x'.repeat(2_000_000), password: 'p' }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringMatching(/larger than the 1048576-byte limit/) as unknown,
    });
  });

  it('refuses JSON nested deeper than any route takes', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200; i++) deep = { a: deep };
    const response = await t.app.inject({
      method: 'PUT',
      url: '/v1/trade/settings/par_platform_alpha',
      headers: supervisor,
      payload: { supervisorThresholds: deep },
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('logs a database error without its SQL, parameters, key hashes or secrets', async () => {
    const key = await t.keyFor('supervisor', 'scheme');
    const token = key.authorization.slice('Bearer '.length);
    const tokenHash = createHash('sha256').update(token).digest('hex');
    const webhookSecret = 'whsec_do_not_log_this_0123456789';
    t.logs.length = 0;
    // A real database error: the table the statement writes to is gone for a moment.
    await t.db.orm.execute(sql`alter table trade_settings rename to trade_settings_away`);
    try {
      const response = await t.app.inject({
        method: 'PUT',
        url: '/v1/trade/settings/par_platform_alpha',
        headers: key,
        payload: {
          webhookUrl: 'https://hooks.example.com/tradeclear',
          webhookSecret,
        },
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ code: 'INTERNAL' });
    } finally {
      await t.db.orm.execute(sql`alter table trade_settings_away rename to trade_settings`);
    }
    // And one on the authentication path, whose parameters are the presented key's id and hash
    // (a key not verified before: one verified within the last second is not read again).
    const fresh = await t.keyFor('supervisor', 'scheme');
    const freshToken = fresh.authorization.slice('Bearer '.length);
    await t.db.orm.execute(sql`alter table api_keys rename to api_keys_away`);
    try {
      const response = await t.app.inject({ method: 'GET', url: '/v1/me', headers: fresh });
      expect(response.statusCode).toBe(500);
    } finally {
      await t.db.orm.execute(sql`alter table api_keys_away rename to api_keys`);
    }
    const text = t.logs.join('\n');
    expect(text).toMatch(/"level":50/);
    expect(text).toMatch(/"sqlState":"42P01"/);
    for (const leak of [
      /Failed query/i,
      /\binsert into\b/i,
      /\bselect\b.*\bfrom\b/i,
      /"params"/,
      /"query"/,
      /whsec_/,
      /\bv1:[A-Za-z0-9+/]{16}:/,
      new RegExp(tokenHash),
      new RegExp(token),
      new RegExp(createHash('sha256').update(freshToken).digest('hex')),
      new RegExp(freshToken),
      /scrypt\$/,
    ]) {
      expect(text).not.toMatch(leak);
    }
    expect((await verifyAuditChain(t.db.orm)).ok).toBe(true);
  });
});
