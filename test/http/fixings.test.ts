import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db';
import { startTestApp, type TestApp, type TestKey } from '../support/http';
import { TEST_DRIVERS } from '../support/db';
import { recordedMarketSources, recordedTransport } from '../support/rate-sources';

/**
 * The governed reference rate (issue 13): the supervisor's fixing rule (a single source only when
 * flagged with a reason), fixings taken from recorded Kraken, Coinbase and Bitstamp answers and the
 * manual desk, refusals audited with nothing written, 409 on a second publication, corrections as
 * audited versions, the paged list, and the daily job at the cut-off.
 */
describe.each(TEST_DRIVERS)('rate fixings, on %s', (driver) => {
  let t: TestApp;
  let supervisor: TestKey;
  let auditor: TestKey;
  let platform: TestKey;
  /** Answers replacing the recorded ones (URL → file or error); emptied to restore them. */
  const overrides: Record<string, string | Error> = {};
  const COINBASE_USD = 'https://api.coinbase.com/v2/prices/BTC-USD/spot';
  const BITSTAMP_USD = 'https://www.bitstamp.net/api/v2/ticker/btcusd/';

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, key: TestKey, payload?: object) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: key.authorization },
      ...(payload ? { payload } : {}),
    });
  const count = async (table: 'rate_fixings' | 'rate_fixing_settings') =>
    Number(
      rowsOf(await t.db.orm.execute(sql`select count(*)::text as n from ${sql.raw(table)}`))[0]!.n,
    );
  const audit = async (prefix: string) =>
    rowsOf(
      await t.db.orm.execute(
        sql`select action, entity_id, actor_role from audit_events
            where action like ${`${prefix}%`} order by seq`,
      ),
    );

  beforeAll(async () => {
    t = await startTestApp({
      driver,
      marketSources: (clock) => {
        const recorded = recordedTransport();
        return recordedMarketSources(clock, (url) => {
          const answer = overrides[url];
          if (answer instanceof Error) return Promise.reject(answer);
          return answer === undefined ? recorded(url) : recordedTransport({ [url]: answer })(url);
        });
      },
    });
    supervisor = await t.keyFor('supervisor', 'scheme');
    auditor = await t.keyFor('auditor', 'scheme');
    platform = await t.keyFor('platform', 'par_01JZZZZZZZZZZZZZZZZZZZZZZZ');
    // Bitstamp's recorded answer is from 15:59:42; the sources are asked at the cut-off.
    t.clock.set('2026-07-01T16:00:00Z');
  }, 60_000);
  afterAll(async () => t?.close());
  afterEach(() => {
    for (const url of Object.keys(overrides)) delete overrides[url];
  });

  it('starts from a rule of every available source and two usable quotes', async () => {
    const response = await call('GET', '/v1/rates/fixing-settings', platform);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      version: 0,
      sources: ['manual', 'kraken', 'coinbase', 'bitstamp'],
      available: ['manual', 'kraken', 'coinbase', 'bitstamp'],
      minSources: 2,
      singleSourceReason: null,
    });
  });

  it('lets only the supervisor set the rule, a single source only when flagged with a reason', async () => {
    const rule = {
      cutoffTime: '16:00',
      currencies: ['USD', 'EUR'],
      sources: ['manual'],
      minSources: 1,
      maxDeviationBps: 100,
    };
    expect((await call('PUT', '/v1/rates/fixing-settings', platform, rule)).statusCode).toBe(403);
    const single = await call('PUT', '/v1/rates/fixing-settings', supervisor, rule);
    expect(single.statusCode).toBe(422);
    expect(single.json()).toMatchObject({ code: 'FIXING_SINGLE_SOURCE_NOT_EXPLICIT' });
    const unknown = await call('PUT', '/v1/rates/fixing-settings', supervisor, {
      ...rule,
      sources: ['reuters', 'kraken'],
      minSources: 2,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ issues: [{ field: 'sources[0]' }] });
    const unmeetable = await call('PUT', '/v1/rates/fixing-settings', supervisor, {
      ...rule,
      sources: ['kraken', 'coinbase'],
      minSources: 3,
    });
    expect(unmeetable.json()).toMatchObject({ issues: [{ field: 'minSources' }] });
    expect(await count('rate_fixing_settings')).toBe(0);

    const flagged = await call('PUT', '/v1/rates/fixing-settings', supervisor, {
      ...rule,
      singleSource: { reason: 'the market venues are unreachable during the migration' },
    });
    expect(flagged.statusCode).toBe(200);
    expect(flagged.json()).toMatchObject({ version: 1, minSources: 1 });
    const governed = await call('PUT', '/v1/rates/fixing-settings', supervisor, {
      ...rule,
      sources: ['kraken', 'coinbase', 'bitstamp', 'manual'],
      minSources: 3,
    });
    expect(governed.json()).toMatchObject({ version: 2, minSources: 3, singleSourceReason: null });
    expect(await count('rate_fixing_settings')).toBe(2);
    expect(await audit('rates.fixingSettings')).toEqual([
      { action: 'rates.fixingSettings.changed', entity_id: '1', actor_role: 'supervisor' },
      { action: 'rates.fixingSettings.changed', entity_id: '2', actor_role: 'supervisor' },
    ]);
  });

  it('refuses a fixing with too few usable sources: the attempt audited, nothing written', async () => {
    overrides[COINBASE_USD] = new Error('HTTP 503');
    overrides[BITSTAMP_USD] = 'bitstamp-ticker-btcusd-off.json';
    const refused = await call('POST', '/v1/rates/fixings', supervisor, { quote: 'USD' });
    expect(refused.statusCode).toBe(422);
    const body = refused.json<{ code: string; details: { sources: object[] } }>();
    expect(body.code).toBe('FIXING_SOURCES_INSUFFICIENT');
    // Kraken and Bitstamp are 2.5 % either side of their median; Coinbase failed; no manual rate.
    expect(body.details.sources).toEqual([
      expect.objectContaining({ name: 'bitstamp', rate: '70510', used: false }),
      { name: 'coinbase', rate: null, used: false, reason: 'failed: HTTP 503' },
      expect.objectContaining({ name: 'kraken', rate: '67012.40000', used: false }),
      { name: 'manual', rate: null, used: false, reason: 'no quote' },
    ]);
    expect(await count('rate_fixings')).toBe(0);
    expect(await audit('rates.fixing.')).toEqual([
      { action: 'rates.fixing.refused', entity_id: 'USD:2026-07-01', actor_role: 'supervisor' },
    ]);
  });

  let usd = '';

  it('publishes the median of the sources, once: a second publication is a 409', async () => {
    expect(
      (await call('PUT', '/v1/rates/manual/USD', supervisor, { rate: '67008' })).statusCode,
    ).toBe(204);
    expect((await call('POST', '/v1/rates/fixings', platform, { quote: 'USD' })).statusCode).toBe(
      403,
    );
    const wrongDay = await call('POST', '/v1/rates/fixings', supervisor, {
      quote: 'USD',
      date: '2026-06-30',
    });
    expect(wrongDay.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'date' }],
    });

    const published = await call('POST', '/v1/rates/fixings', supervisor, { quote: 'USD' });
    expect(published.statusCode).toBe(201);
    const fixing = published.json<{ id: string; sources: { name: string; used: boolean }[] }>();
    usd = fixing.id;
    expect(fixing).toMatchObject({
      quote: 'USD',
      date: '2026-07-01',
      version: 1,
      // The median of 67005.31, 67008, 67012.4 and 67020.
      rate: '67010.2',
      method: 'median(4 of 4, max deviation 100 bp, min 3)',
      settingsVersion: 2,
      supersedes: null,
      supersededBy: null,
      publishedBy: supervisor.id,
    });
    expect(fixing.sources.map((s) => [s.name, s.used])).toEqual([
      ['bitstamp', true],
      ['coinbase', true],
      ['kraken', true],
      ['manual', true],
    ]);

    const again = await call('POST', '/v1/rates/fixings', supervisor, { quote: 'USD' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'FIXING_ALREADY_PUBLISHED',
      details: { fixingId: usd },
    });
    expect(await count('rate_fixings')).toBe(1);
    const read = await call('GET', `/v1/rates/fixings/${usd}`, auditor);
    expect(read.json()).toEqual(fixing);
  });

  it('corrects a fixing as a new version with a reason, audited; the old one stays as it was', async () => {
    overrides[BITSTAMP_USD] = 'bitstamp-ticker-btcusd-off.json';
    const corrected = await call('POST', `/v1/rates/fixings/${usd}/corrections`, supervisor, {
      reason: 'Bitstamp published a bad print; re-fixed without it',
    });
    delete overrides[BITSTAMP_USD];
    expect(corrected.statusCode).toBe(201);
    const v2 = corrected.json<{ id: string; sources: { name: string; reason?: string }[] }>();
    expect(v2).toMatchObject({
      version: 2,
      supersedes: usd,
      reason: 'Bitstamp published a bad print; re-fixed without it',
      // Bitstamp is an outlier now: the median of the other three.
      rate: '67008',
    });
    expect(v2.sources.find((s) => s.name === 'bitstamp')?.reason).toMatch(/^outlier: \d+ bp/);
    const v1 = (await call('GET', `/v1/rates/fixings/${usd}`, platform)).json<object>();
    expect(v1).toMatchObject({ version: 1, rate: '67010.2', supersededBy: v2.id });

    const stale = await call('POST', `/v1/rates/fixings/${usd}/corrections`, supervisor, {
      reason: 'a second correction of version 1',
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'FIXING_SUPERSEDED' });
    const noReason = await call('POST', `/v1/rates/fixings/${v2.id}/corrections`, supervisor, {
      reason: 'short',
    });
    expect(noReason.statusCode).toBe(400);
    expect(await count('rate_fixings')).toBe(2);
    // The database itself refuses to overwrite a fixing.
    await expect(
      t.db.orm.execute(sql`update rate_fixings set digits = 1 where id = ${usd}`),
    ).rejects.toThrow();
    expect(await audit('rates.fixing.')).toEqual([
      { action: 'rates.fixing.refused', entity_id: 'USD:2026-07-01', actor_role: 'supervisor' },
      { action: 'rates.fixing.published', entity_id: usd, actor_role: 'supervisor' },
      { action: 'rates.fixing.corrected', entity_id: v2.id, actor_role: 'supervisor' },
    ]);
    const verify = await call('GET', '/v1/audit/verify', auditor);
    expect(verify.json()).toMatchObject({ ok: true });
  });

  it("refuses to correct an earlier day's fixing from today's quotes", async () => {
    const latest = (
      await call('GET', '/v1/rates/fixings?quote=USD&date=2026-07-01', auditor)
    ).json<{ items: { id: string; supersededBy: string | null }[] }>().items;
    const current = latest.find((f) => f.supersededBy === null)!;
    const now = t.clock.now();
    t.clock.set('2026-07-02T10:00:00Z');
    try {
      const before = await count('rate_fixings');
      const late = await call('POST', `/v1/rates/fixings/${current.id}/corrections`, supervisor, {
        reason: "yesterday's fixing, re-taken today",
      });
      expect(late.statusCode).toBe(409);
      expect(late.json<{ message: string }>().message).toContain('only today');
      expect(await count('rate_fixings')).toBe(before);
    } finally {
      t.clock.set(now.toISOString());
    }
  });

  it('publishes the day’s fixings at the cut-off, once, from the job', async () => {
    const fixings = t.services.rates.fixings!;
    t.clock.set('2026-07-01T15:59:00Z');
    expect(await fixings.publishDueFixings(t.clock.now())).toEqual({ published: [], refused: [] });
    t.clock.set('2026-07-01T16:00:30Z');
    const first = await fixings.publishDueFixings(t.clock.now());
    // USD is published already; EUR is due (Kraken, Coinbase, Bitstamp; no manual EUR rate).
    expect(first.published).toHaveLength(1);
    expect(first.refused).toEqual([]);
    const second = await fixings.publishDueFixings(t.clock.now());
    expect(second).toEqual({ published: [], refused: [] });
    const eur = await call('GET', '/v1/rates/fixings?quote=EUR', platform);
    expect(eur.json()).toMatchObject({
      items: [
        {
          id: first.published[0],
          rate: '61940.1',
          version: 1,
          publishedBy: 'rates.fixing',
          method: 'median(3 of 4, max deviation 100 bp, min 3)',
        },
      ],
      nextCursor: null,
    });
  });

  it('lists every version, newest first, a page at a time, to every authenticated reader', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = (
        await call('GET', `/v1/rates/fixings?limit=2${cursor ? `&cursor=${cursor}` : ''}`, platform)
      ).json();
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(3);
    expect(seen.at(-1)).toBe(usd);
    const day = await call('GET', '/v1/rates/fixings?quote=USD&date=2026-07-01', auditor);
    expect(day.json<{ items: unknown[] }>().items).toHaveLength(2);
    const bad = await call('GET', '/v1/rates/fixings?cursor=nonsense!', auditor);
    expect(bad.statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/v1/rates/fixings' })).statusCode).toBe(401);
  });
});
