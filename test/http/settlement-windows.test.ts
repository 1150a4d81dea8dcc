import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { signBip322Simple } from '../../src/bitcoin';
import { SETTLEMENT_ADDRESS_REFUSED_RULE } from '../../src/clearing';
import { rowsOf } from '../../src/db';
import { newId, SeededRandom, systemCaller } from '../../src/kernel';
import { regtestKey } from '../support/scheme';
import { startTestApp, type TestApp, type TestKey } from '../support/http';
import { TEST_DRIVERS } from '../support/db';

/**
 * The settlement window routes over the whole app: the supervisor sets the schedule, reads every
 * platform's positions and pay-ins and confirms a fiat pay-in (a wrong amount is a 422 recorded
 * as a refusal); a platform officer sees its own platform's rows only, a page at a time; a
 * company and the auditor's writes are refused; closing a closed window is a 409. A licensed
 * platform's officer registers its settlement address (a listed one is refused, 422, naming no
 * list entry); readers see it, another platform does not; the pay-out batch names its transaction.
 */

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface Position {
  platformId: string;
  asset: string;
  netAtClose: string;
}
interface PayIn {
  platformId: string;
  asset: string;
  amountDue: string;
  status: string;
  address: string | null;
  refusals: { reason: string; amount: string }[];
}

describe.each(TEST_DRIVERS)('settlement window routes (%s)', (driver) => {
  let t: TestApp;
  let supervisor: TestKey;
  /** The supervisor's person with another key, and a second supervisor (another person). */
  let supervisorSamePerson: TestKey;
  let supervisorB: TestKey;
  let officerA: TestKey;
  let officerB: TestKey;
  let company: TestKey;
  let auditor: TestKey;
  let windowId = '';
  const random = new SeededRandom(5);
  const [A, B, C] = [0, 1, 2].map(() => newId('participant', new Date('2026-07-01'), random));

  const get = <T>(url: string, key: TestKey) =>
    t.app.inject({ method: 'GET', url, headers: key }).then((r) => ({
      status: r.statusCode,
      body: r.json<T>(),
    }));

  beforeAll(async () => {
    t = await startTestApp({ driver });
    supervisor = await t.keyFor('supervisor', 'scheme');
    supervisorSamePerson = await t.keyFor('supervisor', 'scheme', null, {
      samePersonAs: supervisor,
    });
    supervisorB = await t.keyFor('supervisor', 'scheme');
    officerA = await t.keyFor('platform', A!);
    officerB = await t.keyFor('platform', B!);
    company = await t.keyFor('company', newId('participant', t.clock.now(), random), A);
    auditor = await t.keyFor('auditor', 'auditor');
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lets the supervisor alone set the schedule', async () => {
    const body = { periodMinutes: 60, payInMinutes: 30, reason: 'hourly windows' };
    for (const key of [officerA, company, auditor]) {
      const refused = await t.app.inject({
        method: 'PUT',
        url: '/v1/settlement-schedule',
        headers: key,
        payload: body,
      });
      expect(refused.statusCode).toBe(403);
    }
    const set = await t.app.inject({
      method: 'PUT',
      url: '/v1/settlement-schedule',
      headers: supervisor,
      payload: body,
    });
    expect(set.statusCode).toBe(201);
    const bad = await t.app.inject({
      method: 'PUT',
      url: '/v1/settlement-schedule',
      headers: supervisor,
      payload: { ...body, periodMinutes: 7 },
    });
    expect(bad.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    const state = await get<{ inForce: { version: number } }>('/v1/settlement-schedule', officerA);
    expect(state.body.inForce.version).toBe(1);
  });

  it('closes a window into positions a platform sees only its own of, a page at a time', async () => {
    const windows = t.services.settlementWindows;
    const at = t.clock.now();
    await t.db.transaction(async (tx) => {
      await windows.record(
        { source: 'deal', sourceId: 'd1', from: A!, to: B!, asset: 'BTC', amount: 70n, at },
        tx,
      );
      await windows.record(
        { source: 'deal', sourceId: 'd1', from: B!, to: A!, asset: 'COP', amount: 900n, at },
        tx,
      );
      await windows.record(
        { source: 'deal', sourceId: 'd2', from: C!, to: A!, asset: 'BTC', amount: 20n, at },
        tx,
      );
      await windows.record(
        { source: 'transfer', sourceId: 't1', from: C!, to: B!, asset: 'COP', amount: 100n, at },
        tx,
      );
    });
    const listed = await get<Page<{ id: string; status: string }>>(
      '/v1/settlement-windows',
      officerB,
    );
    expect(listed.status).toBe(200);
    windowId = listed.body.items[0]!.id;
    expect((await get('/v1/settlement-windows', company)).status).toBe(403);

    t.clock.set('2026-07-01T10:00:00Z');
    expect((await windows.runDue()).closed).toEqual([windowId]);
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/settlement-windows/${windowId}/close`,
      headers: supervisor,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ code: string }>().code).toBe('WINDOW_ALREADY_CLOSED');

    const all = await get<Page<Position>>(
      `/v1/settlement-windows/${windowId}/positions?limit=500`,
      supervisor,
    );
    expect(all.body.items).toHaveLength(6);
    const own = await get<Page<Position>>(
      `/v1/settlement-windows/${windowId}/positions?limit=1`,
      officerA,
    );
    expect(own.body.items).toHaveLength(1);
    expect(own.body.nextCursor).not.toBeNull();
    const next = await get<Page<Position>>(
      `/v1/settlement-windows/${windowId}/positions?limit=1&cursor=${own.body.nextCursor}`,
      officerA,
    );
    expect(next.body.nextCursor).toBeNull();
    expect(
      [...own.body.items, ...next.body.items]
        .map((p) => [p.platformId, p.asset, p.netAtClose])
        .sort(),
    ).toEqual(
      [
        [A, 'BTC', '-50'],
        [A, 'COP', '900'],
      ].sort(),
    );
    const payIns = await get<Page<PayIn>>(`/v1/settlement-windows/${windowId}/pay-ins`, officerB);
    expect(payIns.body.items.every((p) => p.platformId === B)).toBe(true);
    expect((await get(`/v1/settlement-windows/${windowId}/positions`, company)).status).toBe(403);
    expect((await get(`/v1/settlement-windows/${windowId}/books`, officerA)).status).toBe(403);
  });

  it('records a fiat pay-in of the wrong amount as a refusal (422) and counts the right one', async () => {
    const url = `/v1/settlement-windows/${windowId}/fiat-pay-ins`;
    const payload = { platformId: B, amount: '801', currency: 'COP', bankReference: 'REF-1' };
    const forbidden = await t.app.inject({ method: 'POST', url, headers: officerB, payload });
    expect(forbidden.statusCode).toBe(403);
    const wrong = await t.app.inject({ method: 'POST', url, headers: supervisor, payload });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json<{ code: string }>().code).toBe('PAY_IN_WRONG_AMOUNT');
    // Four eyes by person: recorded by one, refused to the same person's other key, counted
    // when another person confirms the same transfer.
    const right = { ...payload, amount: '800', bankReference: 'REF-2' };
    const recorded = await t.app.inject({
      method: 'POST',
      url,
      headers: supervisor,
      payload: right,
    });
    expect(recorded.statusCode).toBe(200);
    expect(recorded.json()).toMatchObject({
      status: 'awaiting',
      pendingConfirmation: { amount: '800', bankReference: 'REF-2' },
    });
    // The second person must type the transfer from the bank: the list shows them that a
    // record exists, by whom and when, not its amount or reference; the recorder still sees them.
    const pending = async (key: TestKey) =>
      (
        await get<Page<PayIn & { pendingConfirmation: Record<string, unknown> | null }>>(
          `/v1/settlement-windows/${windowId}/pay-ins`,
          key,
        )
      ).body.items.find((p) => p.asset === 'COP')?.pendingConfirmation;
    const toSecond = await pending(supervisorB);
    expect(toSecond).toMatchObject({ amount: null, bankReference: null });
    expect(toSecond?.recordedBy).toEqual(expect.any(String));
    expect(toSecond?.recordedAt).toEqual(expect.any(String));
    expect(await pending(auditor)).toMatchObject({ amount: null, bankReference: null });
    expect(await pending(officerB)).toMatchObject({
      recordedBy: null,
      amount: null,
      bankReference: null,
    });
    expect(await pending(supervisorSamePerson)).toMatchObject({
      amount: '800',
      bankReference: 'REF-2',
    });
    const sameKey = { authorization: supervisorSamePerson.authorization };
    const self = await t.app.inject({ method: 'POST', url, headers: sameKey, payload: right });
    expect(self.statusCode).toBe(403);
    expect(self.json<{ code: string }>().code).toBe('SELF_APPROVAL');
    const other = { authorization: supervisorB.authorization };
    const confirmed = await t.app.inject({ method: 'POST', url, headers: other, payload: right });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ status: 'received', pendingConfirmation: null });
    const mine = await get<Page<PayIn>>(`/v1/settlement-windows/${windowId}/pay-ins`, officerB);
    expect(mine.body.items.map((p) => p.platformId)).toEqual([B]);
    const cop = mine.body.items.find((p) => p.asset === 'COP')!;
    expect(cop.status).toBe('received');
    expect(cop.refusals).toEqual([
      expect.objectContaining({ reason: 'PAY_IN_WRONG_AMOUNT', amount: '801' }),
    ]);
    const ofA = await get<Page<PayIn>>(`/v1/settlement-windows/${windowId}/pay-ins`, officerA);
    expect(ofA.body.items.map((p) => [p.platformId, p.asset, p.amountDue])).toEqual([
      [A, 'BTC', '50'],
    ]);
    expect(ofA.body.items[0]?.address).toMatch(/^bcrt1/);
    const books = await get<{ balanced: boolean; status: string }>(
      `/v1/settlement-windows/${windowId}/books`,
      auditor,
    );
    expect(books.body).toMatchObject({ status: 'closed', balanced: false });
  });

  it('lists the obligations of a window, a page at a time, a platform only those it is party to', async () => {
    const url = `/v1/settlement-windows/${windowId}/obligations`;
    interface Obligation {
      sourceId: string;
      fromPlatform: string;
      toPlatform: string;
      asset: string;
      amount: string;
    }
    const all = await get<Page<Obligation>>(`${url}?limit=500`, auditor);
    expect(all.status).toBe(200);
    expect(
      all.body.items
        .map((o) => [o.sourceId, o.fromPlatform, o.toPlatform, o.asset, o.amount])
        .sort(),
    ).toEqual(
      [
        ['d1', A, B, 'BTC', '70'],
        ['d1', B, A, 'COP', '900'],
        ['d2', C, A, 'BTC', '20'],
        ['t1', C, B, 'COP', '100'],
      ].sort(),
    );
    // Officer A is party to three of them: two pages of two, then of one.
    const first = await get<Page<Obligation>>(`${url}?limit=2`, officerA);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await get<Page<Obligation>>(
      `${url}?limit=2&cursor=${first.body.nextCursor}`,
      officerA,
    );
    expect(second.body.nextCursor).toBeNull();
    const ofA = [...first.body.items, ...second.body.items];
    expect(ofA).toHaveLength(3);
    expect(ofA.every((o) => o.fromPlatform === A || o.toPlatform === A)).toBe(true);
    expect((await get(url, company)).status).toBe(403);
    expect((await get(`${url}?limit=501`, supervisor)).status).toBe(400);
    const missing = `/v1/settlement-windows/swn_${'0'.repeat(26)}/obligations`;
    expect((await get<{ code: string }>(missing, supervisor)).body.code).toBe('WINDOW_NOT_FOUND');
  });

  it('lets the supervisor alone decide a pay-in, and only a held one', async () => {
    const payIns = await get<Page<PayIn & { id: string; decision: unknown }>>(
      `/v1/settlement-windows/${windowId}/pay-ins`,
      supervisor,
    );
    const btc = payIns.body.items.find((p) => p.asset === 'BTC')!;
    expect(btc).toMatchObject({ status: 'awaiting', decision: null });
    const url = `/v1/settlement-windows/${windowId}/pay-ins/${btc.id}/decision`;
    const payload = { decision: 'accept', reason: 'reviewed and cleared by the supervisor' };
    for (const key of [officerA, auditor, company]) {
      const refused = await t.app.inject({ method: 'POST', url, headers: key, payload });
      expect(refused.statusCode).toBe(403);
    }
    const short = await t.app.inject({
      method: 'POST',
      url,
      headers: supervisor,
      payload: { ...payload, reason: 'fine' },
    });
    expect(short.statusCode).toBe(400);
    const notHeld = await t.app.inject({ method: 'POST', url, headers: supervisor, payload });
    expect(notHeld.statusCode).toBe(409);
    expect(notHeld.json()).toMatchObject({
      code: 'PAY_IN_NOT_HELD',
      details: { status: 'awaiting' },
    });
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: `/v1/settlement-windows/${windowId}/pay-ins/pin_${'0'.repeat(26)}/decision`,
      headers: supervisor,
      payload,
    });
    expect(elsewhere.json<{ code: string }>().code).toBe('PAY_IN_NOT_FOUND');
    const after = await get<Page<PayIn>>(`/v1/settlement-windows/${windowId}/pay-ins`, officerA);
    expect(after.body.items[0]?.status).toBe('awaiting');
  });

  it('takes a settlement address on four eyes and a BIP322 proof of control; a listed one is refused and alerted; another platform cannot read it', async () => {
    const registry = t.services.registry;
    const by = systemCaller('supervisor-test');
    const platform = async (legalName: string) =>
      (await registry.registerParticipant(by, { kind: 'platform', legalName, country: 'CO' })).id;
    const P = await platform('Bogota Liquidacion SAS');
    const Q = await platform('Pereira Custodia SAS');
    await registry.grantLicence(by, {
      participantId: P,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin between platforms',
      validFrom: new Date(t.clock.now().getTime() - 86_400_000).toISOString(),
      validTo: new Date(t.clock.now().getTime() + 365 * 86_400_000).toISOString(),
    });
    const officerP = await t.keyFor('platform', P);
    const officerPOtherKey = await t.keyFor('platform', P, null, { samePersonAs: officerP });
    const checkerP = await t.keyFor('platform', P);
    const officerQ = await t.keyFor('platform', Q);
    /** The server's statement for `key`'s platform and the address of regtest key `fill`, signed. */
    const proof = async (key: TestKey, fill: number, signWith = fill) => {
      const { address } = regtestKey(fill);
      const statement = await get<{ message: string; platformId: string; validUntil: string }>(
        `/v1/settlement-address/statement?address=${address}`,
        key,
      );
      expect(statement.status).toBe(200);
      const signature = signBip322Simple({
        address: regtestKey(signWith).address,
        message: statement.body.message,
        privateKey: regtestKey(signWith).key.privateKey!,
        network: 'regtest',
      });
      return { address, message: statement.body.message, signature };
    };
    const put = (key: TestKey, body: object) =>
      t.app.inject({ method: 'PUT', url: '/v1/settlement-address', headers: key, payload: body });
    const decide = (key: TestKey, id: string, decision: 'approve' | 'reject') =>
      t.app.inject({
        method: 'POST',
        url: `/v1/settlement-address/${id}/${decision}`,
        headers: key,
        ...(decision === 'reject' ? { payload: { reason: 'not our treasury' } } : {}),
      });
    const listOf = async (key: TestKey) =>
      (
        await get<Page<{ id: string; address: string; status: string; current: boolean }>>(
          `/v1/settlement-addresses/${P}`,
          key,
        )
      ).body.items.map((a) => [a.address, a.status, a.current]);
    const alertsOf = async (partyId: string) =>
      (
        await get<Page<{ rule: string; kind: string; message: string }>>(
          `/v1/alerts?partyId=${partyId}`,
          supervisor,
        )
      ).body.items;
    const rows = async () =>
      rowsOf(
        await t.db.orm.execute(
          sql`select count(*)::int as n from clearing_settlement_addresses where platform_id = ${P}`,
        ),
      )[0] as { n: number };

    // The statement names the platform, the address and the server's day.
    const first = await proof(officerP, 41);
    expect(first.message).toBe(
      `Tradeclear settlement address: platform ${P} controls ${first.address} and receives the clearing's pay-outs at it. Issued 2026-07-01.`,
    );
    // Proof of control: a signature by another key, over another platform's statement, over
    // another text or garbage is refused with the closed code, nothing written.
    const wrongKey = await proof(officerP, 41, 49);
    const ofQ = await proof(officerQ, 41);
    for (const bad of [
      wrongKey,
      ofQ,
      { ...first, message: first.message.replace('2026-07-01', '2026-06-01') },
      { ...first, message: 'Hello World' },
      { ...first, signature: 'AkcwRAIgZ' },
    ]) {
      const refused = await put(officerP, bad);
      expect([refused.statusCode, refused.json<{ code: string }>().code]).toEqual([
        422,
        'OWNERSHIP_PROOF_INVALID',
      ]);
    }
    expect((await rows()).n).toBe(0);

    // Proposed by one officer: pending, not paid (no current one yet).
    const proposed = await put(officerP, first);
    expect(proposed.statusCode).toBe(200);
    const firstId = proposed.json<{ id: string }>().id;
    expect(proposed.json()).toMatchObject({
      platformId: P,
      address: first.address,
      status: 'proposed',
      current: false,
      decidedBy: null,
    });
    expect(await listOf(officerP)).toEqual([[first.address, 'proposed', false]]);
    // Four eyes: the proposer cannot approve, with any of their keys; another platform cannot.
    for (const key of [officerP, officerPOtherKey]) {
      const self = await decide(key, firstId, 'approve');
      expect([self.statusCode, self.json<{ code: string }>().code]).toEqual([403, 'SELF_APPROVAL']);
    }
    const foreignApproval = await decide(officerQ, firstId, 'approve');
    expect([foreignApproval.statusCode, foreignApproval.json<{ code: string }>().code]).toEqual([
      404,
      'SETTLEMENT_ADDRESS_NOT_FOUND',
    ]);
    for (const key of [supervisor, auditor, company])
      expect((await decide(key, firstId, 'approve')).statusCode).toBe(403);
    // A different person of the platform approves: now it is the one paid.
    const approved = await decide(checkerP, firstId, 'approve');
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({
      status: 'active',
      current: true,
      decidedBy: checkerP.id,
    });
    expect((await decide(checkerP, firstId, 'approve')).json()).toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });

    // Only a licensed platform's officer proposes.
    expect((await put(officerQ, ofQ)).json()).toMatchObject({ code: 'LICENCE_NOT_ACTIVE' });
    for (const key of [supervisor, auditor, company])
      expect((await put(key, first)).statusCode).toBe(403);
    expect(
      (
        await put(officerP, {
          ...first,
          address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
        })
      ).json(),
    ).toMatchObject({ code: 'INVALID_ADDRESS' });

    // A listed address: the closed code, nothing of the list, and an alert for the supervisor.
    const listed = await proof(officerP, 43);
    await t.services.compliance.screening.importList(by, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`# test list\n${listed.address}\n`),
    });
    const alertsBefore = await alertsOf(P);
    const refused = await put(officerP, listed);
    expect(refused.statusCode).toBe(422);
    const body = refused.json<{ code: string; message: string }>();
    expect(body.code).toBe('TRANSFER_BLOCKED');
    expect(JSON.stringify(body)).not.toMatch(/test list|entry|sanction|alert/i);
    const alertsAfter = await alertsOf(P);
    expect(alertsAfter.length).toBe(alertsBefore.length + 1);
    expect(alertsAfter[0]).toMatchObject({
      rule: SETTLEMENT_ADDRESS_REFUSED_RULE,
      kind: 'screening',
    });
    expect(alertsAfter[0]!.message).toContain(listed.address);
    expect((await get(`/v1/alerts`, officerP)).status).toBe(403);
    expect(await listOf(officerP)).toEqual([[first.address, 'active', true]]);

    // A replacement: proposed, then superseded by a second proposal, which a second officer
    // rejects; the approved one stays the one paid throughout.
    const second = await proof(officerP, 44);
    const secondId = (await put(officerP, second)).json<{ id: string }>().id;
    const third = await proof(checkerP, 45);
    const thirdId = (await put(checkerP, third)).json<{ id: string }>().id;
    expect(await listOf(officerP)).toEqual([
      [third.address, 'proposed', false],
      [second.address, 'superseded', false],
      [first.address, 'active', true],
    ]);
    expect((await decide(officerP, secondId, 'approve')).json()).toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });
    expect((await decide(officerQ, thirdId, 'reject')).statusCode).toBe(404);
    const rejected = await decide(officerP, thirdId, 'reject');
    expect(rejected.json()).toMatchObject({ status: 'rejected', current: false });
    // The checker proposes again; the first officer approves (roles swap, still four eyes).
    const fourth = await proof(checkerP, 46);
    const fourthId = (await put(checkerP, fourth)).json<{ id: string }>().id;
    expect((await decide(officerPOtherKey, fourthId, 'approve')).statusCode).toBe(200);
    for (const key of [supervisor, auditor, officerP]) {
      expect(await listOf(key)).toEqual([
        [fourth.address, 'active', true],
        [third.address, 'rejected', false],
        [second.address, 'superseded', false],
        [first.address, 'active', false],
      ]);
    }
    const actions = rowsOf(
      await t.db.orm.execute(
        sql`select action from audit_events where entity_id = ${P} and action like 'settlement_address.%' order by seq`,
      ),
    ).map((r) => (r as { action: string }).action);
    expect(actions).toEqual([
      'settlement_address.proposed',
      'settlement_address.approved',
      'settlement_address.refused',
      'settlement_address.proposed',
      'settlement_address.superseded',
      'settlement_address.proposed',
      'settlement_address.rejected',
      'settlement_address.proposed',
      'settlement_address.approved',
    ]);
    // Another platform reads it as one that does not exist; a company not at all.
    const foreign = await get<{ code: string }>(`/v1/settlement-addresses/${P}`, officerQ);
    const missing = await get<{ code: string }>(
      `/v1/settlement-addresses/par_${'0'.repeat(26)}`,
      officerQ,
    );
    expect([foreign.status, foreign.body.code]).toEqual([404, 'PARTICIPANT_NOT_FOUND']);
    expect([missing.status, missing.body.code]).toEqual([foreign.status, foreign.body.code]);
    expect((await get(`/v1/settlement-addresses/${P}`, company)).status).toBe(403);
    // The pay-out batch of a window not paid out yet names no transaction.
    const batch = await get<{
      transaction: unknown;
      laterTransactions: unknown[];
      outputs: unknown[];
    }>(`/v1/settlement-windows/${windowId}/pay-out-batch`, auditor);
    expect(batch.status).toBe(200);
    expect(batch.body.transaction).toBeNull();
    expect(batch.body.laterTransactions).toEqual([]);
    // Nor is there a mined transaction to adopt: 409 with the state; the supervisor's route only.
    const adopt = (key: TestKey) =>
      t.app.inject({
        method: 'POST',
        url: `/v1/settlement-windows/${windowId}/pay-out/adopt-mined`,
        headers: key,
      });
    const notHeld = await adopt(supervisor);
    expect([notHeld.statusCode, notHeld.json<{ code: string }>().code]).toEqual([
      409,
      'PAY_OUT_NOT_HELD_FOR_MINED',
    ]);
    expect(notHeld.json<{ details: unknown }>().details).toEqual({ status: null, heldCode: null });
    expect((await adopt(auditor)).statusCode).toBe(403);
  });

  it('shows the supervisor why a pay-in was held and its case, returns or freezes it on reject, and reopens the due', async () => {
    interface Held extends PayIn {
      id: string;
      attempt: number;
      hold: { reason: string; alertId: string | null; caseId: string | null } | null;
      decision: { decision: string; caseId: string | null } | null;
    }
    const windows = t.services.settlementWindows;
    const url = `/v1/settlement-windows/${windowId}/pay-ins`;
    const dueOf = async (key: TestKey, attempt: number) =>
      (await get<Page<Held>>(url, key)).body.items.find(
        (p) => p.asset === 'BTC' && p.attempt === attempt,
      )!;
    const pay = (payer: string | null, address: string, n: number) =>
      t.db.transaction((tx) =>
        windows.chainConsumer().blockConnected(
          {
            hash: n.toString(16).padStart(64, '0'),
            height: 1_000 + n,
            transactions: [
              {
                txid: (n + 0x100).toString(16).padStart(64, '0'),
                inputs: [{ prevout: { address: payer } }],
                outputs: [{ vout: 0, valueSats: 50n, address }],
              },
            ],
          },
          tx,
        ),
      );
    const decide = (id: string) =>
      t.app.inject({
        method: 'POST',
        url: `${url}/${id}/decision`,
        headers: supervisor,
        payload: { decision: 'reject', reason: 'rejected after the review of the payer' },
      });

    // An input without an address cannot be screened: held, returned on reject.
    const first = await dueOf(supervisor, 1);
    await pay(null, first.address!, 1);
    const held = await dueOf(supervisor, 1);
    expect(held).toMatchObject({ status: 'held', hold: { reason: 'unscreenable' } });
    expect(held.hold?.caseId).toMatch(/^cas_/);
    expect(held.hold?.alertId).toMatch(/^alr_/);
    expect(await dueOf(officerA, 1)).toMatchObject({ status: 'held', hold: null });
    const returned = await decide(first.id);
    expect(returned.statusCode).toBe(200);
    expect(returned.json()).toMatchObject({
      status: 'rejected',
      decision: { decision: 'reject', caseId: held.hold!.caseId },
    });

    // Reopened at a fresh address; paid from a listed address, it is held and frozen on reject.
    const second = await dueOf(officerA, 2);
    expect(second).toMatchObject({ status: 'awaiting', amountDue: '50' });
    expect(second.address).not.toBe(first.address);
    const listed = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
    await t.services.compliance.screening.importList(systemCaller('list-import'), {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`# test list\n${listed}\n`),
    });
    await pay(listed, second.address!, 2);
    expect((await dueOf(supervisor, 2)).hold?.reason).toBe('listMatch');
    const frozen = await decide(second.id);
    expect(frozen.json()).toMatchObject({ status: 'frozen', decision: { decision: 'reject' } });
    // The platform learns the closed outcomes and where to pay again, nothing of the screening.
    const own = (await get<Page<Held>>(url, officerA)).body.items;
    expect(own.map((p) => [p.attempt, p.status]).sort()).toEqual([
      [1, 'rejected'],
      [2, 'rejected'], // frozen, as the supervisor sees it: the platform is not told
      [3, 'awaiting'],
    ]);
    expect(own.every((p) => p.hold === null && p.decision === null)).toBe(true);
    expect(JSON.stringify(own)).not.toContain(listed);
  });
});
