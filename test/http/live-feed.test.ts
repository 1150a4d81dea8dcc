import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rowsOf, type Database } from '../../src/db';
import { systemCaller } from '../../src/kernel';
import { TEST_DRIVERS } from '../support/db';
import { startTestApp, type TestApp, type TestKey } from '../support/http';

/**
 * The live feed (`GET /v1/events`) reads the shared outbox, so a change made through one server
 * reaches the browsers of another, and each stream carries only its caller's scope.
 */
describe.each(TEST_DRIVERS)('the live feed across servers (%s)', (driver) => {
  /** The server the browsers listen to. */
  let listened: TestApp;
  /** Another server on the same database, where the changes are made. */
  let other: TestApp;
  /** On PostgreSQL, the other server's own connections to the database. */
  let otherDb: Database | null = null;
  let base = '';
  const aborts: AbortController[] = [];

  beforeAll(async () => {
    listened = await startTestApp({ driver });
    await listened.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(listened.app.server.address() as AddressInfo).port}`;
    if (driver === 'postgres') {
      // A pool of its own, as another process would have: nothing in memory is shared.
      const [row] = rowsOf(await listened.db.orm.execute(sql`select current_database() as name`));
      const url = new URL(String(process.env.TEST_DATABASE_URL));
      url.pathname = `/${String(row?.name)}`;
      otherDb = await openDatabase({ url: url.toString(), poolSize: 3 });
    }
    other = await startTestApp({ db: otherDb ?? listened.db });
  });

  afterAll(async () => {
    for (const abort of aborts) abort.abort();
    await other?.close();
    await otherDb?.close();
    await listened?.close();
  });

  /** Opens a stream on the listened server; answers what it has received so far. */
  async function listen(key: TestKey): Promise<() => string> {
    const abort = new AbortController();
    aborts.push(abort);
    const response = await fetch(`${base}/v1/events`, {
      headers: { authorization: key.authorization },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    let received = '';
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
          received += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted at the end
      }
    })();
    return () => received;
  }

  /** The `audit` events of a stream's text, as data. */
  const eventsIn = (text: string) =>
    [...text.matchAll(/^event: audit\ndata: (.*)$/gm)].map(
      (m) =>
        JSON.parse(m[1]!) as { participantId: string | null; payload: Record<string, unknown> },
    );

  async function until(done: () => boolean): Promise<void> {
    for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
  }

  /** Two platforms, N and S, with a company each, A and B. */
  async function tenants() {
    const registry = listened.services.registry;
    const root = systemCaller('test.supervisor');
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
    const platform = async (legalName: string) => {
      const { id } = await registry.registerParticipant(root, {
        kind: 'platform',
        legalName,
        country: 'CO',
      });
      await registry.grantLicence(root, {
        participantId: id,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin for foreign-trade settlement',
        validFrom: '2026-01-01T00:00:00Z',
        validTo: '2029-01-01T00:00:00Z',
      });
      return id;
    };
    const company = async (legalName: string, platformId: string) =>
      (
        await registry.registerParticipant(root, {
          kind: 'company',
          legalName,
          country: 'CO',
          platformId,
        })
      ).id;
    const n = await platform('Norte Custody SAS');
    const s = await platform('Sur Custody SAS');
    return { n, s, a: await company('Andes Coffee SA', n), b: await company('Bahia Cacao SA', s) };
  }

  it("streams a change committed through another server, to its tenant's listeners only", async () => {
    const ids = await tenants();
    const companyA = await listened.keyFor('company', ids.a, ids.n);
    const companyB = await listened.keyFor('company', ids.b, ids.s);
    const platformN = await listened.keyFor('platform', ids.n);
    const supervisor = await listened.keyFor('supervisor', 'scheme');
    const streams = {
      a: await listen(companyA),
      b: await listen(companyB),
      n: await listen(platformN),
      supervisor: await listen(supervisor),
    };
    // Each stream starts from the newest event once its server has read where that is.
    await new Promise((r) => setTimeout(r, 1_200));

    // Each company creates a key for itself through the other server: audited, so announced.
    const createKey = async (key: TestKey, participantId: string, platformId: string) => {
      const created = await other.app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: { authorization: key.authorization },
        payload: { role: 'company', participantId, platformId, name: 'erp' },
      });
      expect(created.statusCode, created.body).toBe(201);
      return created.json<{ id: string }>().id;
    };
    const keyA = await createKey(companyA, ids.a, ids.n);
    const keyB = await createKey(companyB, ids.b, ids.s);
    const saw = (read: () => string, id: string) =>
      eventsIn(read()).some((e) => e.payload.entityId === id);

    await until(
      () =>
        saw(streams.a, keyA) &&
        saw(streams.b, keyB) &&
        saw(streams.n, keyA) &&
        saw(streams.supervisor, keyA) &&
        saw(streams.supervisor, keyB),
    );
    expect(saw(streams.a, keyA)).toBe(true);
    expect(saw(streams.b, keyB)).toBe(true);
    // A's platform sees its client's change, the supervisor both.
    expect(saw(streams.n, keyA)).toBe(true);
    expect(saw(streams.supervisor, keyA) && saw(streams.supervisor, keyB)).toBe(true);
    // What was streamed is the outbox's announcement, under its number there.
    const [announced] = rowsOf(
      await listened.db.orm.execute(
        sql`select seq::text as seq from outbox_events where topic = 'entity.changed' and key = ${keyA}`,
      ),
    );
    const [event] = eventsIn(streams.a()).filter((e) => e.payload.entityId === keyA);
    expect(event).toMatchObject({
      participantId: ids.a,
      payload: { seq: announced?.seq, entityType: 'apiKey', entityId: keyA },
    });

    // No tenant hears of another's: B (of platform S) nothing of A, A and N nothing of B.
    expect(saw(streams.b, keyA)).toBe(false);
    expect(streams.b()).not.toContain(ids.a);
    expect(saw(streams.a, keyB)).toBe(false);
    expect(saw(streams.n, keyB)).toBe(false);
    expect(streams.a()).not.toContain(ids.b);
  });
});
