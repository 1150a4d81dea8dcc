import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/kernel';
import { MAX_STREAMS_PER_PERSON } from '../../src/http/routes/events';
import { startTestApp, type TestApp } from '../support/http';

/**
 * Rate limits on authentication and live streams (issue 11): unknown or malformed credentials
 * were never limited, the login limit followed the API key, and one key held 2,000 streams.
 */
describe('failed authentication is limited per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('locks an address out after 20 failures a minute, valid keys included, then lets it in', async () => {
    const valid = await t.keyFor('supervisor', 'scheme');
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const response = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: {
          authorization:
            i % 2 ? 'Bearer nonsense' : `Bearer tck_key_${'0'.repeat(26)}_${'a'.repeat(32)}`,
        },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
    const locked = await t.app.inject({ method: 'GET', url: '/v1/me', headers: valid });
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ code: 'RATE_LIMITED' });
    t.clock.advance(5 * 60_000);
    const after = await t.app.inject({ method: 'GET', url: '/v1/me', headers: valid });
    expect(after.statusCode).toBe(200);
  });
});

describe('logins are limited per account (lockout with backoff) and per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    for (const username of ['ana', 'bea'])
      await t.services.users.create(systemCaller('test'), {
        username,
        displayName: username,
        password: 'correct horse battery',
        role: 'platform',
        participantId: 'par_platform_alpha',
      });
  });
  afterAll(async () => t?.close());

  const login = async (username: string, password: string, headers: Record<string, string> = {}) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/v1/session',
        headers,
        payload: { username, password },
      })
    ).statusCode;

  it('locks an account after 5 wrong passwords, even for the right one, and backs off', async () => {
    for (let i = 0; i < 5; i++) expect(await login('ana', 'wrong password')).toBe(401);
    expect(await login('ana', 'correct horse battery')).toBe(429);
    // Another account from the same address is not locked.
    expect(await login('bea', 'correct horse battery')).toBe(200);
    t.clock.advance(31_000);
    // One more failure after the lockout doubles it.
    expect(await login('ana', 'wrong password')).toBe(401);
    expect(await login('ana', 'correct horse battery')).toBe(429);
    t.clock.advance(31_000);
    expect(await login('ana', 'correct horse battery')).toBe(429);
    t.clock.advance(31_000);
    expect(await login('ana', 'correct horse battery')).toBe(200);
  });

  it('counts logins per address whatever API key rides along', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const key = await t.keyFor('supervisor', 'scheme');
      statuses.push(
        await login(`nobody${i}`, 'wrong password', { authorization: key.authorization }),
      );
    }
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('live event streams are capped per person', () => {
  let t: TestApp;
  let base = '';
  const open: ClientRequest[] = [];
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const request of open) request.destroy();
    await t?.close();
  });

  const stream = (authorization: string) =>
    new Promise<{ status: number; request: ClientRequest }>((resolve, reject) => {
      const request = httpRequest(`${base}/v1/events`, { headers: { authorization } });
      request.on('response', (response: IncomingMessage) => {
        if (response.statusCode !== 200) response.resume();
        resolve({ status: response.statusCode ?? 0, request });
      });
      request.on('error', reject);
      request.end();
      open.push(request);
    });

  it(`refuses a person’s stream past ${MAX_STREAMS_PER_PERSON}, through any of their keys`, async () => {
    const key = await t.keyFor('supervisor', 'scheme');
    const sameperson = await t.keyFor('supervisor', 'scheme', null, { samePersonAs: key });
    const other = await t.keyFor('supervisor', 'scheme');
    const first: ClientRequest[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_PERSON; i++) {
      const opened = await stream(key.authorization);
      expect(opened.status).toBe(200);
      first.push(opened.request);
    }
    expect((await stream(key.authorization)).status).toBe(429);
    expect((await stream(sameperson.authorization)).status).toBe(429);
    expect((await stream(other.authorization)).status).toBe(200);
    first[0]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await stream(sameperson.authorization)).status).toBe(200);
  });
});
