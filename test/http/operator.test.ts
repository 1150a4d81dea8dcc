import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db';
import { buildApp } from '../../src/http';
import { newOperatorToken, OPERATOR_ACTOR } from '../../src/http/operator';
import { listAuditEvents } from '../../src/audit';
import { loadConfig, ManualClock, SeededRandom, systemCaller } from '../../src/kernel';
import { composeServices } from '../../src/services';
import { openTestDatabase, TEST_DRIVERS } from '../support/db';

/**
 * The local operator channel: the token the server writes beside its embedded database stands
 * for the scheme's operator (a supervisor, `operator:cli` in the audit log), from loopback only,
 * and only that token.
 */
describe.each(TEST_DRIVERS)('the local operator token on %s', (driver) => {
  let db: Database | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await db?.close();
  });

  async function start(operatorToken?: string) {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-07-01T09:00:00Z');
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const services = composeServices({ db, clock, config, random: new SeededRandom(7) });
    app = await buildApp({
      db,
      clock,
      config,
      services,
      ...(operatorToken ? { operatorToken } : {}),
    });
    return { app, db, services };
  }

  it('authenticates the operator from loopback, who creates a key audited as operator:cli', async () => {
    const token = newOperatorToken();
    const { app, db } = await start(token);
    const authorization = `Bearer ${token}`;
    const me = await app.inject({ url: '/v1/me', headers: { authorization } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ role: 'supervisor', actorId: OPERATOR_ACTOR });

    const created = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { authorization },
      payload: { role: 'supervisor', participantId: 'scheme', platformId: null, name: 'cli' },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json<{ id: string; token: string; createdBy: string }>();
    expect(key.createdBy).toBe(OPERATOR_ACTOR);
    const events = (await listAuditEvents(db.orm, { entityId: key.id }, { limit: 10 })).items;
    expect(events.map((e) => [e.action, e.actor])).toEqual([['apiKey.created', OPERATOR_ACTOR]]);
    const asKey = await app.inject({
      url: '/v1/me',
      headers: { authorization: `Bearer ${key.token}` },
    });
    expect(asKey.json()).toMatchObject({ role: 'supervisor', participantId: 'scheme' });
  }, 300_000);

  it('refuses it from another interface, through a proxy, or when it is not this server’s', async () => {
    const token = newOperatorToken();
    const { app, services } = await start(token);
    const authorization = `Bearer ${token}`;
    const remote = await app.inject({
      url: '/v1/me',
      headers: { authorization },
      remoteAddress: '192.0.2.7',
    });
    expect(remote.statusCode).toBe(401);
    expect(remote.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(remote.json<{ message: string }>().message).toMatch(/only from this machine/);
    const proxied = await app.inject({
      url: '/v1/me',
      headers: { authorization, 'x-forwarded-for': '192.0.2.7' },
    });
    expect(proxied.statusCode).toBe(401);
    const ipv6 = await app.inject({
      url: '/v1/me',
      headers: { authorization },
      remoteAddress: '::1',
    });
    expect(ipv6.statusCode).toBe(200);

    const other = newOperatorToken();
    for (const presented of [other, `${token}x`, token.slice(0, -1), 'tco_']) {
      const wrong = await app.inject({
        url: '/v1/me',
        headers: { authorization: `Bearer ${presented}` },
      });
      expect(wrong.statusCode, presented).toBe(401);
    }
    // Nothing was written by any of them.
    expect((await services.keys.list(systemCaller('test'))).items).toEqual([]);
  }, 300_000);

  it('accepts no operator token at all on a server without the channel', async () => {
    const { app } = await start();
    const response = await app.inject({
      url: '/v1/me',
      headers: { authorization: `Bearer ${newOperatorToken()}` },
    });
    expect(response.statusCode).toBe(401);
  }, 300_000);
});
