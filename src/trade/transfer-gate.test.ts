import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db';
import { FixedRateSource, LedgerService, RateService } from '../ledger';
import { ManualClock, SeededRandom, systemCaller } from '../kernel';
import { createCompliance, registryPartySource, type Compliance } from '../compliance';
import { RegistryService } from '../registry';
import { ComplianceTransferGate } from './compliance-gate';
import { RegistryPartyDirectory } from './directory';
import { TradeService } from './service';
import { testVasp } from '../../test/support/vasp';
import { openTestDatabase } from '../../test/support/db';
import { INBOUND, OUTBOUND, registerScheme } from '../../test/support/trade-scheme';

describe('every transfer passes the policy gate (no way around screening)', () => {
  let db: Database;
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const random = new SeededRandom(11);
  /** An OFAC address listed in September 2024 (sanctioned_addresses_XBT.txt, line 7). */
  const SANCTIONED_XBT = '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h';
  const CLEAN_REGTEST = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
  let registry: RegistryService;
  let compliance: Compliance;
  let gate: ComplianceTransferGate;
  let trade: TradeService;
  let scheme: Awaited<ReturnType<typeof registerScheme>>;
  let importContractId: string;

  beforeAll(async () => {
    db = await openTestDatabase();
    registry = new RegistryService({ db, clock, random, network: 'regtest' });
    compliance = createCompliance(
      { db, clock, random },
      { parties: registryPartySource(registry) },
    );
    gate = new ComplianceTransferGate({ db, gate: compliance.gate, registry, clock });
    const ledger = new LedgerService({ db, clock, random });
    const rates = new RateService({
      db,
      clock,
      random,
      source: new FixedRateSource('desk', clock, { EUR: '50000' }),
    });
    trade = new TradeService({
      db,
      clock,
      random,
      network: 'regtest',
      chain: null,
      ledger,
      rates,
      gate,
      directory: new RegistryPartyDirectory(registry),
      wallets: registry,
    });
    // The jurisdiction is set later, in its own test.
    scheme = await registerScheme(registry, clock, { jurisdiction: false });
    await registry.registerCounterpartyAddress(scheme.supervisor, scheme.buyerId, {
      address: CLEAN_REGTEST,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Banco Exchange SA'),
    });
    await compliance.screening.importList(scheme.supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new Uint8Array(
        readFileSync(
          new URL(
            '../../test/vectors/sanctions/ofac-crypto-2024-09/sanctioned_addresses_XBT.txt',
            import.meta.url,
          ),
        ),
      ),
    });
    const officer = scheme.officer('key_officer');
    const contract = await trade.contracts.create(officer, {
      companyId: scheme.companyId,
      counterpartyId: scheme.buyerId,
      direction: 'import',
      goodsDescription: 'Corks',
      hsCode: '450310',
      incoterm: 'DAP',
      currency: 'EUR',
      amount: '1000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-09-01', amount: '1000.00' }],
    });
    await trade.contracts.transition(officer, contract.id, 'submit');
    await trade.contracts.transition(scheme.officer('key_checker'), contract.id, 'approve');
    await trade.contracts.transition(officer, contract.id, 'activate');
    importContractId = contract.id;
  });
  afterAll(async () => db.close());

  const facts = (over: Partial<Parameters<ComplianceTransferGate['decide']>[1]> = {}) => ({
    transferId: `pay_test_${random.int(0, 1_000_000)}`,
    occurredAt: clock.now(),
    direction: 'outbound' as const,
    platformId: scheme.platformId,
    companyId: scheme.companyId,
    counterpartyId: scheme.buyerId,
    contractId: importContractId,
    address: CLEAN_REGTEST,
    amountSats: 100_000n,
    fiatMinor: 5_000n,
    currency: 'EUR',
    rate: '50000',
    openAmountSats: 2_000_000n,
    toleranceSats: 0n,
    travelRule: OUTBOUND,
    ...over,
  });

  it('blocks every transfer while the scheme jurisdiction is not set, and keeps the payout cancelled with the reason', async () => {
    const officer = scheme.officer('key_officer');
    const refused = await trade.payouts
      .create(officer, {
        contractId: importContractId,
        amount: '100.00',
        address: CLEAN_REGTEST,
        travelRule: OUTBOUND,
      })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'TRANSFER_BLOCKED' });
    const {
      items: [kept],
    } = await trade.payouts.list(officer);
    expect(kept).toMatchObject({
      status: 'cancelled',
      amountSats: 200_000n,
      gate: { outcome: 'block', decidedBy: 'trade.complianceGate@1', decisionId: null },
    });
    expect(kept!.gate.reasons).toEqual([
      expect.stringMatching(
        /^SCHEME_JURISDICTION_NOT_SET: the scheme jurisdiction is not configured/,
      ),
    ]);
    // A cancelled payout holds nothing of the contract: 1,000.00 EUR is open again.
    expect((await trade.contracts.get(officer, importContractId)).openAmount).toBe(100_000n);
    await registry.setSchemeJurisdiction(scheme.supervisor, { country: 'FR', name: 'France' });
  });

  it('blocks a counterparty that is not a registered participant', async () => {
    const decision = await db.transaction(() =>
      gate.decide(
        scheme.officer('key_officer'),
        facts({ counterpartyId: 'par_01J00000000000000000000000' }),
      ),
    );
    expect(decision).toEqual({
      outcome: 'block',
      reasons: [
        'PARTICIPANT_NOT_REGISTERED: counterparty par_01J00000000000000000000000 is not a registered counterparty; register it and verify its KYC first',
      ],
      decidedBy: 'trade.complianceGate@1',
      decisionId: null,
    });
  });

  it('blocks a sanctioned XBT address whatever else is true', async () => {
    const clean = await db.transaction(() => gate.decide(scheme.officer('key_officer'), facts()));
    expect(clean.outcome).toBe('allow');
    const listed = await db.transaction(() =>
      gate.decide(scheme.officer('key_officer'), facts({ address: SANCTIONED_XBT })),
    );
    expect(listed.outcome).toBe('block');
    expect(
      listed.reasons.some((r) =>
        r.startsWith(`SANCTIONS_ADDRESS_MATCH: address ${SANCTIONED_XBT} is listed`),
      ),
    ).toBe(true);
    // An inbound payment from that address (its input) is blocked too: the invoice turns invalid.
    const inbound = await db.transaction(() =>
      gate.decide(
        systemCaller('trade.invoices'),
        facts({ direction: 'inbound', address: SANCTIONED_XBT, travelRule: INBOUND }),
      ),
    );
    expect(inbound.outcome).toBe('block');
    expect(inbound.decisionId).not.toBeNull();
    // Read in the caller's unit (the payout or invoice it resolves is locked there) or on the pool.
    expect(await db.transaction(() => gate.resolution(inbound.decisionId!))).toBe('block');
    expect(await gate.resolution(inbound.decisionId!)).toBe('block');
  });

  it("keeps compliance's stored decision with an allowed payout (an officer can look it up)", async () => {
    const officer = scheme.officer('key_officer');
    const created = await trade.payouts.create(officer, {
      contractId: importContractId,
      amount: '100.00',
      address: CLEAN_REGTEST,
      travelRule: OUTBOUND,
    });
    expect(created).toMatchObject({ status: 'awaitingApproval', gate: { outcome: 'allow' } });
    expect(created.gate.decisionId).toMatch(/^dec/);
    const { items: stored } = await compliance.decisions.list(scheme.supervisor, {
      transferId: created.id,
    });
    expect(stored.map((d) => d.outcome)).toEqual(['allow']);
  });
});
