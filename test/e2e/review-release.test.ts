import { EventRelay } from '../../src/events';
import * as bitcoinjs from 'bitcoinjs-lib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http';
import { loadConfig, SeededRandom, systemCaller } from '../../src/kernel';
import { composeServices } from '../../src/services';
import {
  BUYER,
  balanceOf,
  inboundTravelRule,
  openScheme,
  outboundTravelRule,
  regtest,
  regtestKey,
  supervisor,
  type Scheme,
} from '../support/scheme';

/**
 * Issues #5/#6 end to end, on simnet and PGlite with the real services: a transfer the policy gate
 * sends to `review` is held (a payout is neither approvable nor batched; an invoice whose payment
 * is in review does not settle), an officer of the supervisor resolves the decision through
 * `POST /v1/decisions/:id/review`, and the next trade tick carries the resolution through: an
 * allowed payout goes to maker-checker approval, a batch, the chain and the ledger; a blocked one
 * is cancelled with nothing broadcast or posted; an allowed invoice settles.
 */

/** A supplier in a jurisdiction the supervisor rates high-risk (FATF increased monitoring). */
const LAGOS = {
  name: 'Lagos Agro Machinery Ltd',
  country: 'NG',
  vasp: 'Lagos Digital Exchange Ltd',
  address: regtestKey(11).address,
};
/**
 * 0.4321 BTC = 25,926.00 USD at 60,000 USD/BTC: within the contract's open amount, below the
 * single-transfer threshold and not a round amount, so of the default monitoring rules
 * (compliance/monitoring/engine.ts DEFAULT_MONITORING, review at 50, block at 100) only two hit:
 * rule.high-risk-jurisdiction@1 (30, the supplier's country is rated high) and
 * rule.pass-through@1 (40, it sends on at least 80 % of the 0.5 BTC received within 2 h).
 * 30 + 40 = 70: review. Either alone stays below 50.
 */
const PAYOUT_SATS = 43_210_000n;
/**
 * The buyer pays 0.5432 BTC (32,592.00 USD, not round) on a 0.5 BTC invoice that is all the
 * export contract's open amount, with no tolerance: the gate's contract check sends an inbound
 * receipt over the open amount to review (AMOUNT_EXCEEDS_OPEN), and rule.contract-mismatch@1
 * scores 60 (review, below the block at 100).
 */
const OVERPAID_SATS = 54_320_000n;
const ONE_DAY = 86_400_000;

type Auth = { authorization: string };
type Json = Record<string, unknown>;

/**
 * The supervisor's desk: the HTTP app over the scheme's own services (registry, compliance,
 * ledger, trade), with API keys for a supervisor officer, an auditor and a platform officer.
 */
async function openDesk(scheme: Scheme) {
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000',
    SCHEME_NAME: 'Review scheme',
  });
  const composed = composeServices({
    db: scheme.db,
    clock: scheme.clock,
    config,
    random: new SeededRandom(11),
  });
  const services = {
    ...composed,
    registry: scheme.registry,
    compliance: scheme.compliance,
    ledger: scheme.ledger,
    trade: scheme.trade,
  };
  const app: FastifyInstance = await buildApp({
    db: scheme.db,
    clock: scheme.clock,
    config,
    services,
    logStream: { write: () => undefined },
  });
  const key = async (
    role: 'supervisor' | 'auditor' | 'platform',
    participantId: string,
  ): Promise<Auth & { id: string }> => {
    // Each key its own person: two platform keys are two officers.
    const created = await composed.keys.issue(
      systemCaller('test'),
      {
        role,
        participantId,
        platformId: role === 'platform' ? participantId : null,
        name: `${role} officer`,
      },
      { newPerson: { displayName: `${role} officer` } },
    );
    return { authorization: `Bearer ${created.token}`, id: created.id };
  };
  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, auth: Auth, body?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: { authorization: auth.authorization },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, body: response.json<Json>() };
  };
  // Trade hears of resolutions through the outbox, as the server's `events.relay` job hands them.
  const relay = new EventRelay({ db: scheme.db, clock: scheme.clock });
  // Only the reviews subscriber: the counts below are the resolutions it carried (the webhook
  // subscriber's queueing is tested in test/events/announcements.test.ts).
  for (const subscriber of scheme.trade.subscribers())
    if (subscriber.name === 'trade.reviews') relay.subscribe(subscriber);
  return {
    app,
    call,
    relay,
    officer: await key('supervisor', 'scheme'),
    auditor: await key('auditor', 'scheme'),
    platformOfficer: await key('platform', scheme.platformId),
  };
}
type Desk = Awaited<ReturnType<typeof openDesk>>;

/** The audit events of one entity, oldest first, through the auditor's API. */
async function auditTrail(desk: Desk, entityId: string) {
  const { status, body } = await desk.call(
    'GET',
    `/v1/audit?entityId=${entityId}&limit=500`,
    desk.auditor,
  );
  expect(status).toBe(200);
  return (body.items as Json[]).reverse();
}

/** An export contract of 30,000.00 USD with the buyer, approved and active, and its 0.5 BTC invoice. */
async function exportInvoice(s: Scheme) {
  const contract = await s.trade.contracts.create(s.company, {
    counterpartyId: s.buyerId,
    direction: 'export',
    goodsDescription: 'Green coffee beans, washed arabica, 18 t',
    hsCode: '090111',
    incoterm: 'FOB',
    currency: 'USD',
    amount: '30000.00',
    pricingMode: 'fiat',
    schedule: [{ dueDate: '2026-08-01', amount: '30000.00' }],
  });
  await s.trade.contracts.transition(s.company, contract.id, 'submit');
  await s.trade.contracts.transition(s.maker, contract.id, 'approve');
  await s.trade.contracts.transition(s.maker, contract.id, 'activate');
  const invoice = await s.trade.invoices.create(s.company, {
    contractId: contract.id,
    amount: '30000.00',
    travelRule: inboundTravelRule(BUYER.name, BUYER.vasp),
  });
  expect(invoice).toMatchObject({ amountSats: 50_000_000n, gateOutcome: 'allow', status: 'new' });
  return { contract, invoice };
}

/**
 * The company is paid 0.5 BTC by its buyer (settled after two confirmations); the supervisor rates
 * Nigeria high-risk through the registry API; an import contract of 0.5 BTC with the Lagos
 * supplier; the maker requests a 0.4321 BTC payout, which the gate sends to review. Checks that
 * the payout is held: not approvable, not batched even by a forced run, nothing broadcast.
 */
async function heldPayout(s: Scheme, desk: Desk) {
  const rated = await desk.call('PUT', `/v1/jurisdictions/${LAGOS.country}`, desk.officer, {
    riskLevel: 'high',
    refused: false,
    reason: 'FATF: jurisdiction under increased monitoring',
  });
  expect(rated).toMatchObject({
    status: 200,
    body: { country: LAGOS.country, riskLevel: 'high', refused: false },
  });
  const supplierId = await s.registerCounterparty(LAGOS.name, LAGOS.country, {
    address: LAGOS.address,
    vasp: LAGOS.vasp,
  });

  const { invoice } = await exportInvoice(s);
  await s.payFromMiner(invoice.address, 50_000_000n);
  await s.syncMempool();
  await s.mine(2);
  expect((await s.trade.invoices.get(s.company, invoice.id)).status).toBe('settled');
  expect(balanceOf(await s.ledger.balances(supervisor), `clientFunds:${s.companyId}`)).toBe(
    50_000_000n,
  );

  const contract = await s.trade.contracts.create(s.maker, {
    companyId: s.companyId,
    counterpartyId: supplierId,
    direction: 'import',
    goodsDescription: 'Coffee hulling machine, 2 t/h',
    hsCode: '843780',
    incoterm: 'CIF',
    currency: 'USD',
    amount: '30000.00',
    pricingMode: 'fixedBtc',
    btcAmountSats: '50000000',
    schedule: [{ dueDate: '2026-08-15', amount: '50000000' }],
  });
  await s.trade.contracts.transition(s.maker, contract.id, 'submit');
  await s.trade.contracts.transition(s.officerA, contract.id, 'approve');
  await s.trade.contracts.transition(s.maker, contract.id, 'activate');

  const payout = await s.trade.payouts.create(s.maker, {
    contractId: contract.id,
    amount: PAYOUT_SATS.toString(),
    address: LAGOS.address,
    travelRule: outboundTravelRule(LAGOS.name, LAGOS.vasp),
  });
  expect(payout).toMatchObject({
    status: 'awaitingReview',
    requiredApprovals: 2,
    fiatMinor: 2_592_600n,
    gate: { outcome: 'review', resolution: null },
  });
  const decisionId = payout.gate.decisionId!;
  expect(decisionId).toMatch(/^dec_/);

  // The decision, as the officer sees it: review for the two monitoring hits, nothing that blocks.
  const decision = await desk.call('GET', `/v1/decisions/${decisionId}`, desk.officer);
  expect(decision.body).toMatchObject({
    transferId: payout.id,
    direction: 'outbound',
    outcome: 'review',
    finalOutcome: null,
    monitoringScore: 70,
  });
  const reasons = decision.body.reasons as { code: string; rule: string; outcome: string }[];
  expect(reasons.filter((r) => r.code === 'MONITORING_HIT').map((r) => r.rule)).toEqual(
    expect.arrayContaining(['rule.high-risk-jurisdiction@1', 'rule.pass-through@1']),
  );
  expect(reasons.filter((r) => r.code === 'MONITORING_HIT')).toHaveLength(2);
  expect(reasons).toContainEqual(
    expect.objectContaining({ code: 'MONITORING_SCORE', outcome: 'review' }),
  );
  expect(reasons.filter((r) => r.outcome === 'block')).toEqual([]);
  const pending = await desk.call('GET', '/v1/decisions?pendingReview=true', desk.officer);
  expect((pending.body.items as Json[]).map((d) => d.id)).toEqual([decisionId]);

  // Held: no officer can approve it, no batch takes it, nothing reaches the chain.
  await expect(s.trade.payouts.approve(s.officerA, payout.id)).rejects.toMatchObject({
    code: 'INVALID_STATE_TRANSITION',
  });
  const idle = await s.trade.tick();
  expect(idle.reviews).toEqual({ released: [], cancelled: [] });
  expect(idle.batches).toEqual([]);
  expect(await s.trade.payouts.runBatch(s.maker, s.platformId, { force: true })).toBeNull();
  expect((await s.trade.payouts.listBatches(s.maker)).items).toEqual([]);
  expect(s.simnet.mempoolTxids()).toEqual([]);
  const held = await s.trade.payouts.get(s.maker, payout.id);
  expect(held).toMatchObject({ status: 'awaitingReview', batchId: null, txid: null });
  expect(held.approvals).toEqual([]);
  expect((await s.trade.contracts.get(s.maker, contract.id)).reservedAmount).toBe(PAYOUT_SATS);
  return { supplierId, contract, payout, decisionId };
}

describe('a transfer in review is held, then released or blocked by an officer', () => {
  let scheme: Scheme | undefined;
  let desk: Desk | undefined;
  afterEach(async () => {
    await desk?.app.close();
    await scheme?.db.close();
    desk = undefined;
    scheme = undefined;
  });

  it('outbound, allowed: released when trade hears of it, approved by two officers, batched, mined, settled', async () => {
    const s = (scheme = await openScheme());
    const d = (desk = await openDesk(s));
    const { supplierId, contract, payout, decisionId } = await heldPayout(s, d);

    // Ten minutes later (the platform's batch window after the forced run) the officer allows it.
    s.clock.advance(600_000);
    const note = 'Supplier contract and shipping documents checked; pass-through explained';
    const resolved = await d.call('POST', `/v1/decisions/${decisionId}/review`, d.officer, {
      outcome: 'allow',
      note,
    });
    expect(resolved).toMatchObject({
      status: 200,
      body: { id: decisionId, finalOutcome: 'allow', reviewedBy: d.officer.id, reviewNote: note },
    });
    // Trade hears of it through the outbox (the relay hands the announcement over once); the
    // tick's sweep then finds nothing left to release.
    expect((await s.trade.payouts.get(s.maker, payout.id)).status).toBe('awaitingReview');
    expect(await d.relay.run()).toEqual({ handled: 1, failed: 0 });
    expect((await s.trade.payouts.get(s.maker, payout.id)).status).toBe('awaitingApproval');
    expect(await d.relay.run()).toEqual({ handled: 0, failed: 0 });
    const release = await s.trade.tick();
    expect(release.reviews).toEqual({ released: [], cancelled: [] });
    expect(release.batches).toEqual([]);
    expect(await s.trade.payouts.get(s.maker, payout.id)).toMatchObject({
      status: 'awaitingApproval',
      gate: { outcome: 'review', decisionId, resolution: 'allow' },
    });
    expect((await d.call('GET', '/v1/decisions?pendingReview=true', d.officer)).body.items).toEqual(
      [],
    );

    // Maker-checker: the maker cannot approve; two other officers do.
    await expect(s.trade.payouts.approve(s.maker, payout.id)).rejects.toMatchObject({
      code: 'SELF_APPROVAL',
    });
    expect((await s.trade.payouts.approve(s.officerA, payout.id)).status).toBe('awaitingApproval');
    expect((await s.trade.payouts.approve(s.officerB, payout.id)).status).toBe('awaitingPayment');

    const run = await s.trade.tick();
    expect(run.failures).toEqual([]);
    expect(run.batches).toHaveLength(1);
    const {
      items: [batch],
    } = await s.trade.payouts.listBatches(s.maker);
    expect(batch).toMatchObject({ id: run.batches[0], payoutIds: [payout.id] });
    // One 0.5 BTC input, the payment and change, P2WPKH: 10.5 + 68 + 2 × 31 = 140.5 → 141 vB;
    // at 2 sat/vB the fee is 282 sats.
    expect(batch!.feeSats).toBe(282n);
    expect(s.simnet.mempoolTxids()).toEqual([batch!.txid]);
    const sent = await s.trade.payouts.get(s.maker, payout.id);
    expect(sent).toMatchObject({ status: 'inProgress', batchId: batch!.id, txid: batch!.txid });
    // The broadcast transaction, decoded independently, pays the supplier's address.
    const tx = bitcoinjs.Transaction.fromBuffer(await s.source.getRawTransaction(batch!.txid!));
    const paid = tx.outs[sent.vout!]!;
    expect(paid.value).toBe(PAYOUT_SATS);
    expect(bitcoinjs.address.fromOutputScript(paid.script, regtest)).toBe(LAGOS.address);

    await s.mine(2);
    const done = await s.trade.payouts.get(s.maker, payout.id);
    expect(done).toMatchObject({ status: 'completed', feeShareSats: 282n });
    expect(done.settlementId).not.toBeNull();
    expect(s.simnet.listUnspent(LAGOS.address).map((u) => u.value)).toEqual([PAYOUT_SATS]);
    const balances = await s.ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${s.companyId}`)).toBe(
      50_000_000n - PAYOUT_SATS - 282n,
    );
    expect(balanceOf(balances, `inTransit:${s.companyId}`)).toBe(0n);
    expect(balanceOf(balances, `networkFees:${s.companyId}`)).toBe(282n);
    expect(balanceOf(balances, `counterpartySettled:${supplierId}`)).toBe(PAYOUT_SATS);
    expect(await s.ledger.trialBalance()).toBe(0n);
    const report = await s.trade.reconcile(supervisor, { utxos: s.utxoSource });
    expect(report.totalDifferenceSats).toBe(0n);
    expect(report.trialBalanceSats).toBe(0n);
    expect(await s.trade.contracts.get(s.maker, contract.id)).toMatchObject({
      settledAmount: PAYOUT_SATS,
      reservedAmount: 0n,
    });

    // The audit log holds the officer's resolution and the release, and its chain verifies.
    const reviewed = await auditTrail(d, decisionId);
    expect(reviewed.filter((e) => e.action === 'decision.reviewed')).toEqual([
      expect.objectContaining({
        actor: d.officer.id,
        actorRole: 'supervisor',
        after: { finalOutcome: 'allow', note },
      }),
    ]);
    const actions = (await auditTrail(d, payout.id)).map((e) => e.action);
    const at = (action: string) => actions.indexOf(action);
    expect(at('payout.created')).toBeGreaterThanOrEqual(0);
    expect(at('payout.reviewAllowed')).toBeGreaterThan(at('payout.created'));
    expect(at('payout.approved')).toBeGreaterThan(at('payout.reviewAllowed'));
    expect(actions).not.toContain('payout.reviewBlocked');
    const verified = await d.call('GET', '/v1/audit/verify', d.auditor);
    expect(verified).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('outbound, blocked: cancelled with its reasons, nothing broadcast, nothing posted', async () => {
    const s = (scheme = await openScheme());
    const d = (desk = await openDesk(s));
    const { supplierId, contract, payout, decisionId } = await heldPayout(s, d);
    const before = await s.ledger.balances(supervisor);

    const note = 'Pass-through to a high-risk jurisdiction not explained by the company';
    const resolved = await d.call('POST', `/v1/decisions/${decisionId}/review`, d.officer, {
      outcome: 'block',
      note,
    });
    expect(resolved).toMatchObject({
      status: 200,
      body: { finalOutcome: 'block', reviewedBy: d.officer.id, reviewNote: note },
    });
    // A resolved review is final: the officer cannot turn it round.
    expect(
      await d.call('POST', `/v1/decisions/${decisionId}/review`, d.officer, {
        outcome: 'allow',
        note: 'changed my mind after a phone call',
      }),
    ).toMatchObject({ status: 409, body: { code: 'INVALID_STATE_TRANSITION' } });

    // Here trade's tick sweeps it up before the relay runs (a resolution it has not heard of yet);
    // the announcement, handed over afterwards, finds the payout already cancelled.
    s.clock.advance(600_000);
    const cancel = await s.trade.tick();
    expect(cancel.reviews).toEqual({ released: [], cancelled: [payout.id] });
    expect(await d.relay.run()).toEqual({ handled: 1, failed: 0 });
    expect(cancel.batches).toEqual([]);
    const cancelled = await s.trade.payouts.get(s.maker, payout.id);
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      batchId: null,
      txid: null,
      settlementId: null,
      gate: { outcome: 'review', decisionId, resolution: 'block' },
    });
    // The reasons stay with the payout for the company, its platform and the supervisor.
    expect(cancelled.gate.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^MONITORING_HIT: counterparty in NG, rated high risk/),
        expect.stringMatching(/^MONITORING_HIT: sends on 43210000 sats within 2 h/),
      ]),
    );
    await expect(s.trade.payouts.approve(s.officerA, payout.id)).rejects.toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });
    expect((await s.trade.tick()).reviews).toEqual({ released: [], cancelled: [] });

    // Nothing broadcast, nothing mined to the supplier, nothing posted; the reservation is freed.
    expect(await s.trade.payouts.runBatch(s.maker, s.platformId, { force: true })).toBeNull();
    expect((await s.trade.payouts.listBatches(s.maker)).items).toEqual([]);
    expect(s.simnet.mempoolTxids()).toEqual([]);
    await s.mine(1);
    expect(s.simnet.listUnspent(LAGOS.address)).toEqual([]);
    const after = await s.ledger.balances(supervisor);
    expect(after).toEqual(before);
    expect(balanceOf(after, `clientFunds:${s.companyId}`)).toBe(50_000_000n);
    expect(balanceOf(after, `counterpartySettled:${supplierId}`)).toBe(0n);
    const statement = await s.ledger.statement(
      supervisor,
      s.companyId,
      'clientFunds',
      new Date(s.clock.now().getTime() - ONE_DAY),
      new Date(s.clock.now().getTime() + ONE_DAY),
    );
    expect(statement.items.map((l) => l.kind)).toEqual(['invoice.settled']);
    expect(await s.ledger.trialBalance()).toBe(0n);
    expect((await s.trade.reconcile(supervisor, { utxos: s.utxoSource })).totalDifferenceSats).toBe(
      0n,
    );
    expect(await s.trade.contracts.get(s.maker, contract.id)).toMatchObject({
      status: 'active',
      settledAmount: 0n,
      reservedAmount: 0n,
      openAmount: 50_000_000n,
    });

    const reviewed = await auditTrail(d, decisionId);
    expect(reviewed.filter((e) => e.action === 'decision.reviewed')).toEqual([
      expect.objectContaining({ actor: d.officer.id, after: { finalOutcome: 'block', note } }),
    ]);
    const actions = (await auditTrail(d, payout.id)).map((e) => e.action);
    expect(actions).toContain('payout.reviewBlocked');
    expect(actions).not.toContain('payout.reviewAllowed');
    expect(actions).not.toContain('payout.approved');
    expect((await d.call('GET', '/v1/audit/verify', d.auditor)).body).toMatchObject({ ok: true });
  });

  it('inbound: a receipt in review waits at processing past its confirmations and settles once allowed', async () => {
    const s = (scheme = await openScheme());
    const d = (desk = await openDesk(s));
    const { contract, invoice } = await exportInvoice(s);

    const payment = await s.payFromMiner(invoice.address, OVERPAID_SATS);
    await s.syncMempool();
    let seen = await s.trade.invoices.get(s.company, invoice.id);
    expect(seen).toMatchObject({
      status: 'processing',
      gateOutcome: 'review',
      additionalStatus: ['paidOver'],
    });
    const decided = seen.gateDecisions.find((g) => g.subject === `payment:${payment.getId()}`);
    expect(decided).toMatchObject({ outcome: 'review', resolution: null });
    const decisionId = decided!.decisionId!;
    const decision = await d.call('GET', `/v1/decisions/${decisionId}`, d.officer);
    expect(decision.body).toMatchObject({
      transferId: invoice.id,
      direction: 'inbound',
      outcome: 'review',
      finalOutcome: null,
      monitoringScore: 60,
    });
    const reasons = decision.body.reasons as { code: string; rule: string; outcome: string }[];
    expect(reasons).toContainEqual(
      expect.objectContaining({ code: 'AMOUNT_EXCEEDS_OPEN', outcome: 'review' }),
    );
    expect(reasons).toContainEqual(
      expect.objectContaining({ code: 'MONITORING_HIT', rule: 'rule.contract-mismatch@1' }),
    );
    expect(reasons.filter((r) => r.outcome === 'block')).toEqual([]);

    // Confirmed to the scheme's depth (2), and ticks run: still processing, nothing posted.
    await s.mine(2);
    expect((await s.trade.tick()).expired).toBe(0);
    seen = await s.trade.invoices.get(s.company, invoice.id);
    expect(seen).toMatchObject({
      status: 'processing',
      confirmedSats: OVERPAID_SATS,
      settlementId: null,
      gateOutcome: 'review',
    });
    expect(balanceOf(await s.ledger.balances(supervisor), `clientFunds:${s.companyId}`)).toBe(0n);

    // The review outlasts the invoice's late-payment window (the officer is back after two days):
    // the confirmed receipt still waits for the officer, it does not turn invalid.
    s.clock.advance(2 * ONE_DAY);
    await s.trade.tick();
    seen = await s.trade.invoices.get(s.company, invoice.id);
    expect(seen.watchUntil.getTime()).toBeLessThan(s.clock.now().getTime());
    expect(seen).toMatchObject({ status: 'processing', settlementId: null });
    expect(await s.trade.contracts.get(s.company, contract.id)).toMatchObject({
      status: 'active',
      reservedAmount: 3_000_000n,
    });

    // A platform officer cannot resolve it, and nothing changes.
    const auditBefore = (await d.call('GET', '/v1/audit/verify', d.auditor)).body;
    const byPlatform = await d.call(
      'POST',
      `/v1/decisions/${decisionId}/review`,
      d.platformOfficer,
      { outcome: 'allow', note: 'the platform vouches for its client' },
    );
    expect(byPlatform).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect((await d.call('GET', `/v1/decisions/${decisionId}`, d.officer)).body).toMatchObject({
      finalOutcome: null,
      reviewedBy: null,
      reviewNote: null,
    });
    expect((await d.call('GET', '/v1/audit/verify', d.auditor)).body).toEqual(auditBefore);
    await s.trade.tick();
    expect(await s.trade.invoices.get(s.company, invoice.id)).toMatchObject({
      status: 'processing',
      gateOutcome: 'review',
      settlementId: null,
    });

    // The supervisor's officer allows it: the next tick settles the invoice and posts it.
    const note = 'Overpayment agreed with the buyer for the freight surcharge, invoice attached';
    expect(
      await d.call('POST', `/v1/decisions/${decisionId}/review`, d.officer, {
        outcome: 'allow',
        note,
      }),
    ).toMatchObject({ status: 200, body: { finalOutcome: 'allow', reviewNote: note } });
    expect(await d.relay.run()).toEqual({ handled: 1, failed: 0 });
    const settled = await s.trade.invoices.get(s.company, invoice.id);
    expect(settled).toMatchObject({
      status: 'settled',
      gateOutcome: 'allow',
      confirmedSats: OVERPAID_SATS,
    });
    expect(settled.settlementId).not.toBeNull();
    expect(settled.gateDecisions.find((g) => g.decisionId === decisionId)?.resolution).toBe(
      'allow',
    );
    const balances = await s.ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${s.companyId}`)).toBe(OVERPAID_SATS);
    expect(balanceOf(balances, `counterpartySettled:${s.buyerId}`)).toBe(-OVERPAID_SATS);
    expect(await s.ledger.trialBalance()).toBe(0n);
    expect((await s.trade.reconcile(supervisor, { utxos: s.utxoSource })).totalDifferenceSats).toBe(
      0n,
    );
    expect(await s.trade.contracts.get(s.company, contract.id)).toMatchObject({
      status: 'settled',
      settledAmount: 3_000_000n,
      reservedAmount: 0n,
    });

    const actions = (await auditTrail(d, invoice.id)).map((e) => e.action);
    expect(actions.indexOf('invoice.reviewResolved')).toBeGreaterThan(-1);
    expect(actions.indexOf('invoice.settled')).toBeGreaterThan(
      actions.indexOf('invoice.reviewResolved'),
    );
    expect(actions).not.toContain('invoice.invalid');
    expect((await d.call('GET', '/v1/audit/verify', d.auditor)).body).toMatchObject({ ok: true });
  });
});
