import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserService } from '../../src/access';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp } from '../support/http';

describe('people log in with a password, an optional TOTP code, and a session cookie', () => {
  let t: TestApp;
  let totpSecret: string;
  beforeAll(async () => {
    t = await startTestApp();
    await t.services.users.create(systemCaller('test'), {
      username: 'Officer.Ana',
      displayName: 'Ana',
      password: 'correct horse battery',
      role: 'platform',
      participantId: 'par_platform_alpha',
    });
    const second = await t.services.users.create(systemCaller('test'), {
      username: 'sup',
      displayName: 'Supervisor',
      password: 'another long password',
      role: 'supervisor',
      participantId: 'scheme',
      totp: true,
    });
    totpSecret = second.totpSecret ?? '';
  });
  afterAll(async () => t.close());

  function cookieOf(setCookie: string | string[] | undefined): string {
    const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
    return (header ?? '').split(';')[0] ?? '';
  }

  it('logs in, carries the caller in the cookie, and logs out', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'officer.ana', password: 'correct horse battery' },
    });
    expect(login.statusCode).toBe(200);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/tc_session=[a-z2-7]{52}/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = cookieOf(login.headers['set-cookie']);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(me.json()).toMatchObject({ role: 'platform', participantId: 'par_platform_alpha' });
    const out = await t.app.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie } });
    expect(out.statusCode).toBe(200);
    const after = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('gives the same answer for an unknown user and a wrong password', async () => {
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'officer.ana', password: 'nope' },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'nobody', password: 'nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json<{ message: string }>().message).toBe(
      unknown.json<{ message: string }>().message,
    );
  });

  it('requires the TOTP code when the second factor is on (RFC 6238)', async () => {
    const without = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'sup', password: 'another long password' },
    });
    expect(without.statusCode).toBe(401);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'sup', password: 'another long password', totpCode: '000000' },
    });
    expect(bad.statusCode).toBe(401);
    const code = UserService.totpNow(totpSecret, t.clock.now());
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'sup', password: 'another long password', totpCode: code },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ user: { role: 'supervisor', totpEnabled: true } });
  });

  it('expires sessions after 12 hours', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'officer.ana', password: 'correct horse battery' },
    });
    const cookie = cookieOf(login.headers['set-cookie']);
    t.clock.advance(12 * 3_600_000 + 1000);
    const after = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('refuses a non-JSON state change from a browser session (CSRF)', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { username: 'officer.ana', password: 'correct horse battery' },
    });
    const cookie = cookieOf(login.headers['set-cookie']);
    const form = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'role=platform&participantId=par_platform_alpha&name=x',
    });
    expect(form.statusCode).toBe(403);
  });
});
