import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp } from '../support/http';

/**
 * CSRF (issue 11): a cookie-authenticated body-less state change (a revoke, an approval, a
 * contract action) needs no JSON, so another site's page could make it with the officer's
 * session. Origin and Sec-Fetch-Site now have to say it came from our own pages.
 */
describe('cross-site state changes with a session', () => {
  let t: TestApp;
  let cookie = '';
  const platform = 'par_platform_alpha';

  beforeAll(async () => {
    t = await startTestApp();
    await t.services.users.create(systemCaller('test'), {
      username: 'officer.ana',
      displayName: 'Ana',
      password: 'correct horse battery',
      role: 'platform',
      participantId: platform,
    });
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'officer.ana', password: 'correct horse battery' },
    });
    const header = login.headers['set-cookie'];
    cookie = ((Array.isArray(header) ? header[0] : header) ?? '').split(';')[0] ?? '';
  });
  afterAll(async () => t?.close());

  const revoke = async (id: string, headers: Record<string, string>) =>
    t.app.inject({ method: 'DELETE', url: `/v1/keys/${id}`, headers });
  const active = async (authorization: string) =>
    (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization } }))
      .statusCode === 200;

  it('refuses a body-less POST/DELETE from another origin, and changes nothing', async () => {
    const key = await t.keyFor('platform', platform);
    const fromEvil = await revoke(key.id, { cookie, origin: 'https://evil.example' });
    expect(fromEvil.statusCode).toBe(403);
    expect(fromEvil.json()).toMatchObject({ code: 'FORBIDDEN' });
    const nullOrigin = await revoke(key.id, { cookie, origin: 'null' });
    expect(nullOrigin.statusCode).toBe(403);
    const crossSite = await revoke(key.id, { cookie, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    const sameSite = await revoke(key.id, { cookie, 'sec-fetch-site': 'same-site' });
    expect(sameSite.statusCode).toBe(403);
    const approve = await t.app.inject({
      method: 'POST',
      url: '/v1/contracts/ctr_01K00000000000000000000000/approve',
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(approve.statusCode).toBe(403);
    expect(await active(key.authorization)).toBe(true);
  });

  it('accepts the same change from our own origin, and Bearer keys whatever the Origin', async () => {
    const first = await t.keyFor('platform', platform);
    const own = await revoke(first.id, {
      cookie,
      origin: 'http://localhost:80',
      'sec-fetch-site': 'same-origin',
    });
    expect(own.statusCode).toBe(200);
    expect(await active(first.authorization)).toBe(false);
    const second = await t.keyFor('platform', platform);
    const byKey = await revoke(second.id, {
      authorization: second.authorization,
      origin: 'https://evil.example',
    });
    expect(byKey.statusCode).toBe(200);
  });
});
