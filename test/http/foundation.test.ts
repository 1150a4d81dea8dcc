import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db';
import { systemCaller } from '../../src/kernel';
import { buildApp } from '../../src/http';
import { startTestApp, type TestApp } from '../support/http';

describe('HTTP foundation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('answers /healthz and /readyz with the database and migrations ready', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'pglite' });
  });

  it('serves an OpenAPI 3.1 document that validates, and the docs page', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/keys', '/v1/audit/verify', '/healthz']),
    );
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('sets a request id and security headers on every response', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers['x-request-id']).toMatch(/^req_[0-9A-Z]{26}$/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('refuses anonymous, malformed and unknown credentials with 401', async () => {
    const anonymous = await t.app.inject({ method: 'GET', url: '/v1/keys' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const malformed = await t.app.inject({
      method: 'GET',
      url: '/v1/keys',
      headers: { authorization: 'Basic abc' },
    });
    expect(malformed.statusCode).toBe(401);
    const unknown = await t.app.inject({
      method: 'GET',
      url: '/v1/keys',
      headers: { authorization: `Bearer tck_key_01M82F3E5Y31ZA4JW3G3RVG9V0_${'a'.repeat(32)}` },
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('checks the caller before the input: a refused caller learns nothing of the body it sent', async () => {
    const malformed = { bogus: 'x'.repeat(5) };
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/v1/screenings',
      payload: malformed,
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    // A company may not screen (no probing of the lists): refused for its role, not its body.
    const { authorization } = await t.keyFor('company', 'par_company_body', 'par_platform_body');
    const company = await t.app.inject({
      method: 'POST',
      url: '/v1/screenings',
      headers: { authorization },
      payload: malformed,
    });
    expect(company.statusCode).toBe(403);
    expect(company.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect(company.body).not.toContain('bogus');
  });

  it('answers an unknown API path 404 whoever asks (no route, nothing to guard)', async () => {
    const anonymous = await t.app.inject({ method: 'GET', url: '/v1/no-such-thing' });
    expect(anonymous.statusCode).toBe(404);
    const { authorization } = await t.keyFor('company', 'par_company_404', 'par_platform_404');
    const company = await t.app.inject({
      method: 'POST',
      url: '/v1/no-such-thing',
      headers: { authorization },
      payload: {},
    });
    expect(company.statusCode).toBe(404);
  });

  it('refuses to register an API route that declares no roles', async () => {
    const app = await buildApp({
      db: t.db,
      clock: t.clock,
      config: t.config,
      services: t.services,
      logStream: { write: () => undefined },
    });
    try {
      expect(() => app.get('/v1/undeclared', { schema: { hide: true } }, () => 'x')).toThrow(
        /GET \/v1\/undeclared declares no config.roles/,
      );
      // Outside the API (the web app's files, the docs) a route declares none and is public.
      expect(() => app.get('/undeclared-page', () => 'x')).not.toThrow();
    } finally {
      await app.close();
    }
  });

  it('refuses a revoked key', async () => {
    const { authorization, id } = await t.keyFor('miner', 'par_miner_revoked');
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/v1/keys/${id}`,
      headers: { authorization },
    });
    expect(revoke.statusCode).toBe(200);
    const after = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization } });
    expect(after.statusCode).toBe(401);
  });

  it('refuses a role that may not use an endpoint with 403', async () => {
    const { authorization } = await t.keyFor('company', 'par_company_x', 'par_platform_x');
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/audit/verify',
      headers: { authorization },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('creates a key once, shows the token once, and stores only its hash', async () => {
    const supervisor = await t.keyFor('supervisor', 'scheme');
    // A key is bound only to a participant the registry has.
    const platform = await t.services.registry.registerParticipant(systemCaller('test'), {
      kind: 'platform',
      legalName: 'New Exchange',
      country: 'CO',
    });
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: supervisor,
      payload: { role: 'platform', participantId: platform.id, name: 'ops' },
    });
    expect(response.statusCode).toBe(201);
    const created = response.json<{ id: string; token: string }>();
    expect(created.token).toMatch(/^tck_key_/);
    const stored = rowsOf(
      await t.db.orm.execute(sql`select * from api_keys where id = ${created.id}`),
    );
    expect(JSON.stringify(stored)).not.toContain(created.token.split('_').at(-1));
    const listed = await t.app.inject({
      method: 'GET',
      url: `/v1/keys/${created.id}`,
      headers: supervisor,
    });
    expect(listed.json()).not.toHaveProperty('token');
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${created.token}` },
    });
    expect(me.json()).toMatchObject({
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
    });
  });

  it('answers malformed input with 400, a code and the field, and writes nothing', async () => {
    const supervisor = await t.keyFor('supervisor', 'scheme');
    const before = await countRows(t);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: supervisor,
      payload: { role: 'emperor', participantId: 'par_x', name: 'x' },
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ code: string; issues: { field: string }[] }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.issues.map((i) => i.field)).toContain('body.role');
    const badJson = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { ...supervisor, 'content-type': 'application/json' },
      payload: '{"role": ',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    const badId = await t.app.inject({
      method: 'GET',
      url: '/v1/keys/not-an-id',
      headers: supervisor,
    });
    expect(badId.statusCode).toBe(400);
    expect(badId.json<{ issues: { field: string }[] }>().issues[0]?.field).toBe('params.id');
    expect(await countRows(t)).toEqual(before);
  });

  it('turns an unexpected error into a plain 500 with a request id and no internals', async () => {
    const local = await startTestApp();
    local.app.get('/explode', () => {
      throw new Error('password=hunter2 at /secret/path');
    });
    const response = await local.app.inject({ method: 'GET', url: '/explode' });
    expect(response.statusCode).toBe(500);
    const body = response.json<{ code: string; message: string; requestId: string }>();
    expect(body.code).toBe('INTERNAL');
    expect(body.message).not.toContain('hunter2');
    expect(body.requestId).toBe(response.headers['x-request-id']);
    await local.close();
  });

  it('never logs credentials', async () => {
    const { authorization } = await t.keyFor('auditor', 'scheme');
    await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization, cookie: 'session=abc' },
    });
    const secret = authorization.split('_').at(-1) ?? '';
    expect(t.logs.join('')).not.toContain(secret);
    expect(t.logs.join('')).not.toContain('session=abc');
  });
});

describe('rate limiting', () => {
  it('answers 429 RATE_LIMITED past the configured rate', async () => {
    const t = await startTestApp({ rateLimitPerMinute: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    await t.close();
  });
});

async function countRows(t: TestApp): Promise<{ keys: string; audit: string }> {
  const [keys] = rowsOf(await t.db.orm.execute(sql`select count(*)::text as n from api_keys`));
  const [audit] = rowsOf(await t.db.orm.execute(sql`select count(*)::text as n from audit_events`));
  return { keys: String(keys?.n), audit: String(audit?.n) };
}
