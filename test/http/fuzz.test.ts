import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db';
import { startTestApp, type TestApp } from '../support/http';

/**
 * Random JSON thrown at every endpoint that exists: no answer is a 5xx, and a refused request
 * writes nothing (row counts and the audit chain are unchanged).
 */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

describe('random input at every endpoint', () => {
  let t: TestApp;
  let supervisor: { authorization: string };
  beforeAll(async () => {
    t = await startTestApp();
    supervisor = await t.keyFor('supervisor', 'scheme');
  });
  afterAll(async () => t.close());

  async function counts(): Promise<string> {
    const rows = rowsOf(
      await t.db.orm.execute(
        sql`select (select count(*) from api_keys)::text as keys, (select count(*) from audit_events)::text as audit`,
      ),
    );
    return JSON.stringify(rows[0]);
  }

  const endpoints = async (): Promise<{ method: Method; url: string }[]> => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const list: { method: Method; url: string }[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const method of Object.keys(methods)) {
        const upper = method.toUpperCase();
        // The live event stream never ends by design; it has its own tests.
        if (path === '/v1/events') continue;
        if (METHODS.includes(upper as Method)) list.push({ method: upper as Method, url: path });
      }
    }
    return list;
  };

  it('never answers 5xx and never writes on a refused request', async () => {
    const targets = await endpoints();
    expect(targets.length).toBeGreaterThan(5);
    const segment = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constant('key_01M82F3E5Y31ZA4JW3G3RVG9V0'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        fc.jsonValue({ maxDepth: 3 }),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
        segment,
        fc.boolean(),
        async (target, body, query, param, authenticated) => {
          const url = target.url.replace(/\{[^}]+\}/g, encodeURIComponent(param) || 'x');
          const before = await counts();
          const response = await t.app.inject({
            method: target.method,
            url,
            query,
            headers: authenticated ? supervisor : {},
            ...(target.method !== 'GET' && target.method !== 'DELETE'
              ? {
                  payload: JSON.stringify(body),
                  headers: {
                    ...(authenticated ? supervisor : {}),
                    'content-type': 'application/json',
                  },
                }
              : {}),
          });
          expect(response.statusCode, `${target.method} ${url} → ${response.body}`).toBeLessThan(
            500,
          );
          if (response.statusCode >= 400) expect(await counts()).toBe(before);
        },
      ),
      { numRuns: 150 },
    );
  }, 300_000);
});
