import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, verifyAuditChain } from '../../src/audit';
import {
  addressFromScript,
  createPsbt,
  deriveAddress,
  extractTransaction,
  finalizePsbt,
  fromHex,
  LocalKeySigner,
  parseDescriptor,
  parseTransaction,
  RECEIVE,
  signBip322Simple,
} from '../../src/bitcoin';
import { Simnet, SimnetChainSource } from '../../src/chain';
import {
  MISSING_INPUT_ATTEMPTS,
  PAY_OUT_HELD_RULE,
  SettlementWindowService,
  type FiatPayIn,
  type ObligationInput,
  type PayInView,
  type WindowView,
} from '../../src/clearing';
import { rowsOf } from '../../src/db';
import { AppError, sats, type Caller } from '../../src/kernel';
import { schemeConfirmationDepth } from '../../src/trade';
import { caller, openScheme, regtestKey, supervisor, type Scheme } from '../support/scheme';
import { TEST_DRIVERS } from '../support/db';

/**
 * Settlement windows end to end, on simnet and a real database with the real chain watcher (the
 * windows' consumer after trade's, mining's and clearing's, in each block's transaction): three
 * platforms owe each other bitcoin and pesos; the window closes at the supervisor's cut-off into
 * net positions; the net payer of bitcoin pays in on-chain to its own deposit address, the net
 * payers of pesos are confirmed by the bank; the window settles and the clearing's books are at
 * zero. Then a platform fails to pay in: it is taken out, the others settle, the books are at
 * zero, and its obligations are in the next window. Bad input: a window closed twice, pay-ins of
 * the wrong amount (on-chain and by bank), each a refusal with a closed code that counts nothing.
 * The settled window pays its net receivers on-chain: at the settlement addresses their officers
 * registered (four eyes: proposed by one officer with a BIP322 proof of control, paid once
 * another approves it; a listed one refused), in one transaction signed by the clearing's key, stored
 * before it is sent (a restart sends the same one), held while a receiver has no address, and
 * followed into a block and out of it by a reorganization. Every hold for the supervisor raises
 * one alert in compliance's queue, none more on the job's next runs.
 *
 * Over 600 lines on purpose: one scheme's story, each test building on the windows of the last.
 */

const M = 1_000_000n;
const supervisorB = caller('supervisor', 'system', 'key_supervisor_b', null);
/** The platforms' settlement addresses, and one a sanctions list names. */
const addressOfB = regtestKey(31).address;
const addressOfC = regtestKey(32).address;
const listedAddress = regtestKey(33).address;

describe.each(TEST_DRIVERS)('settlement windows on simnet (%s)', (driver) => {
  let s: Scheme;
  let windows: SettlementWindowService;
  let A = '';
  let B = '';
  let C = '';
  let first: WindowView;
  let second: WindowView;
  let third: WindowView;
  let fourth: WindowView;
  let fifth: WindowView;
  let officerOfB = supervisor;
  let officerOfC = supervisor;
  /** A second person of each platform: the four eyes of a settlement address. */
  let checkerOfB = supervisor;
  let checkerOfC = supervisor;
  /** The same service without a chain: it signs and stores, and cannot send (a crash before the broadcast). */
  let offline: SettlementWindowService;
  let deps: ConstructorParameters<typeof SettlementWindowService>[0];
  /** The window whose rejected pay-out transaction the supervisor rebuilt, and the one replaced. */
  let rebuiltWindow = '';
  /** The window whose pay-out transaction is held for missing inputs. */
  let heldWindow = '';
  let replacedRaw = '';
  /** The transaction the clearing's key signed elsewhere, mined, spending the held window's pay-in. */
  let conflictTxid = '';

  const record = (o: Omit<ObligationInput, 'at'>) =>
    s.db.transaction((tx) => windows.record({ ...o, at: s.clock.now() }, tx));

  /** A fiat pay-in recorded by the supervisor and confirmed by a second person (four eyes). */
  async function bankPaysIn(windowId: string, platformId: string, payment: FiatPayIn) {
    const recorded = await windows.confirmFiatPayIn(supervisor, windowId, platformId, payment);
    expect(recorded.status).toBe('awaiting');
    return windows.confirmFiatPayIn(supervisorB, windowId, platformId, payment);
  }

  async function refusal(run: Promise<unknown>): Promise<AppError> {
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  /** `officer` proposes the address of regtest key `fill`, proven by its BIP322 signature. */
  async function propose(officer: Caller, fill: number) {
    const { address, key } = regtestKey(fill);
    const { message } = windows.settlementAddressStatement(officer, { address });
    const signature = signBip322Simple({
      address,
      message,
      privateKey: key.privateKey!,
      network: 'regtest',
    });
    return windows.proposeSettlementAddress(officer, { address, message, signature });
  }

  /** Proposed by `officer`, approved by `checker` (another person of the platform). */
  async function registerAddress(officer: Caller, checker: Caller, fill: number) {
    const proposed = await propose(officer, fill);
    return windows.approveSettlementAddress(checker, proposed.id);
  }

  async function payInsOf(windowId: string): Promise<PayInView[]> {
    return (await windows.listPayIns(supervisor, windowId, { limit: 500 })).items;
  }

  /**
   * A window's fee entries in its books: the network fee they show (the live entries' debits of
   * `network-fee`, the reversed ones netted out), and each entry with how often it was reversed.
   */
  async function feeBooks(windowId: string) {
    const rows = rowsOf(
      await s.db.orm.execute(
        sql`select entry, kind, amount::text as amount from clearing_window_postings where window_id = ${windowId} and account = 'network-fee' and kind like 'payOut.networkFee%' order by id`,
      ),
    ) as { entry: string; kind: string; amount: string }[];
    const shown = rows.reduce(
      (sum, r) =>
        sum +
        (r.kind === 'payOut.networkFee'
          ? BigInt(r.amount) > 0n
            ? BigInt(r.amount)
            : 0n
          : BigInt(r.amount) < 0n
            ? BigInt(r.amount)
            : 0n),
      0n,
    );
    const entries = [
      ...new Set(rows.filter((r) => r.kind === 'payOut.networkFee').map((r) => r.entry)),
    ];
    const reversals = rows.filter((r) => r.kind !== 'payOut.networkFee').map((r) => r.entry);
    return {
      shown,
      entries: entries.map((entry) => ({
        entry,
        // Two network-fee postings per output: a reversal posts each once.
        reversed:
          reversals.filter((e) => e === `reversal:${entry}`).length /
          rows.filter((r) => r.entry === entry).length,
      })),
    };
  }

  /** Every account of the window at zero (the books balance account by account). */
  async function booksAtZero(windowId: string) {
    const { balances, balanced } = await windows.reconcile(supervisor, windowId);
    expect(balances.filter((b) => b.balance !== 0n)).toEqual([]);
    expect(balanced).toBe(true);
  }

  /**
   * The supervisor's alerts of a window's held pay-out in compliance's queue, oldest first, as
   * `[code, party, severity]` (the message names the window and the code).
   */
  async function holdAlerts(windowId: string) {
    const page = await s.compliance.cases.alerts(
      supervisor,
      { rule: PAY_OUT_HELD_RULE },
      { limit: 500 },
    );
    return page.items
      .filter((a) => a.message.includes(windowId))
      .map((a) => [/\(([A-Z_]+)\)/.exec(a.message)?.[1] ?? '', a.partyId, a.severity])
      .sort((a, b) => a[0]!.localeCompare(b[0]!));
  }

  async function events(entityId: string) {
    return (await listAuditEvents(s.db.orm, { entityId }, { limit: 100 })).items.map(
      (e) => e.action,
    );
  }

  /** A transaction the clearing's key signed elsewhere, spending a pay-in's outpoint (no RBF). */
  async function spendElsewhere(input: {
    txid: string;
    vout: number;
    valueSats: bigint;
    derivationIndex: number;
  }) {
    const derived = deriveAddress(
      parseDescriptor(deps.payInDescriptor!, 'regtest'),
      RECEIVE,
      input.derivationIndex,
    );
    const psbt = createPsbt({
      network: 'regtest',
      inputs: [
        {
          txid: input.txid,
          vout: input.vout,
          value: sats(input.valueSats),
          scriptPubKey: derived.scriptPubKey,
          sequence: 0xffffffff,
          derivations: derived.keys.map((k) => ({
            pubkey: k.pubkey,
            fingerprint: k.fingerprint,
            path: k.path,
          })),
        },
      ],
      outputs: [{ address: regtestKey(40).address, amount: sats(input.valueSats - 5_000n) }],
    });
    return extractTransaction(finalizePsbt(await deps.signer!.signPsbt(psbt)));
  }

  beforeAll(async () => {
    s = await openScheme({ seed: 43, driver });
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(77), 'regtest');
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    deps = {
      db: s.db,
      clock: s.clock,
      network: 'regtest' as const,
      payInDescriptor: `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`,
      confirmationDepth: schemeConfirmationDepth,
      addressScreening: s.compliance.screening,
      payOutAlerts: s.compliance.alerts,
      signer,
      licences: s.registry,
    };
    windows = new SettlementWindowService({ ...deps, chain: s.source });
    offline = new SettlementWindowService({ ...deps, chain: null });
    await s.watcher.registerConsumer(windows.chainConsumer()); // after clearing's
    const platform = async (legalName: string) =>
      (
        await s.registry.registerParticipant(supervisor, {
          kind: 'platform',
          legalName,
          country: 'CO',
        })
      ).id;
    A = s.platformId;
    B = await platform('Medellin Custodia SAS');
    C = await platform('Cali Activos Digitales SAS');
    for (const id of [B, C])
      await s.registry.grantLicence(supervisor, {
        participantId: id,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin between platforms',
        validFrom: new Date(s.clock.now().getTime() - 86_400_000).toISOString(),
        validTo: new Date(s.clock.now().getTime() + 365 * 86_400_000).toISOString(),
      });
    officerOfB = caller('platform', B, 'key_officer_of_b', B);
    officerOfC = caller('platform', C, 'key_officer_of_c', C);
    checkerOfB = caller('platform', B, 'key_checker_of_b', B);
    checkerOfC = caller('platform', C, 'key_checker_of_c', C);
  }, 180_000);

  afterAll(async () => {
    await s?.db.close();
  });

  it('accumulates obligations in the open window, idempotently, until the supervisor sets a schedule', async () => {
    s.clock.set('2026-07-01T09:10:00Z');
    // Bitcoin: A → B 50, B → C 20, C → A 10 (millions of sats). Pesos: B → A 3, C → A 1, A → C 0.5.
    await record({
      source: 'deal',
      sourceId: 'deal_1',
      from: A,
      to: B,
      asset: 'BTC',
      amount: 50n * M,
    });
    await record({
      source: 'deal',
      sourceId: 'deal_1',
      from: B,
      to: A,
      asset: 'COP',
      amount: 3n * M,
    });
    await record({
      source: 'deal',
      sourceId: 'deal_2',
      from: B,
      to: C,
      asset: 'BTC',
      amount: 20n * M,
    });
    await record({
      source: 'deal',
      sourceId: 'deal_3',
      from: C,
      to: A,
      asset: 'BTC',
      amount: 10n * M,
    });
    await record({
      source: 'transfer',
      sourceId: 'trf_1',
      from: C,
      to: A,
      asset: 'COP',
      amount: M,
    });
    await record({
      source: 'transfer',
      sourceId: 'trf_2',
      from: A,
      to: C,
      asset: 'COP',
      amount: M / 2n,
    });
    // Reported twice (a retry): recorded once.
    await record({
      source: 'deal',
      sourceId: 'deal_1',
      from: A,
      to: B,
      asset: 'BTC',
      amount: 50n * M,
    });
    // Bad input is refused whole.
    const bad = await refusal(
      record({ source: 'deal', sourceId: 'deal_x', from: A, to: A, asset: 'BTC', amount: 1n }),
    );
    expect(bad.code).toBe('VALIDATION_FAILED');

    const page = await windows.listWindows(supervisor);
    expect(page.items).toHaveLength(1);
    first = page.items[0]!;
    expect(first.status).toBe('open');
    expect(first.closesAt).toBeNull();
    // Nothing closes without a schedule.
    expect(await windows.runDue()).toEqual({
      closed: [],
      settled: [],
      signed: [],
      broadcast: [],
      resent: [],
      held: [],
    });

    await windows.setSchedule(supervisor, {
      periodMinutes: 60,
      payInMinutes: 30,
      reason: 'hourly windows, pay-in within 30 minutes (scheme rule 4.2)',
    });
    first = await windows.getWindow(supervisor, first.id);
    expect(first.closesAt?.toISOString()).toBe('2026-07-01T10:00:00.000Z');
    expect(await windows.runDue()).toEqual({
      closed: [],
      settled: [],
      signed: [],
      broadcast: [],
      resent: [],
      held: [],
    });
  });

  it('closes at the cut-off into net positions and one pay-in per net payer and asset', async () => {
    s.clock.set('2026-07-01T10:00:05Z');
    expect((await windows.runDue()).closed).toEqual([first.id]);
    first = await windows.getWindow(supervisor, first.id);
    expect(first.status).toBe('closed');
    expect(first.payInDeadline?.toISOString()).toBe('2026-07-01T10:30:05.000Z');

    const positions = (await windows.listPositions(supervisor, first.id)).items;
    const net = (platform: string, asset: string) =>
      positions.find((p) => p.platformId === platform && p.asset === asset)?.netAtClose;
    expect([net(A, 'BTC'), net(B, 'BTC'), net(C, 'BTC')]).toEqual([-40n * M, 30n * M, 10n * M]);
    expect([net(A, 'COP'), net(B, 'COP'), net(C, 'COP')]).toEqual([
      (7n * M) / 2n,
      -3n * M,
      -M / 2n,
    ]);
    const payIns = await payInsOf(first.id);
    expect(
      payIns
        .map((p) => [p.platformId, p.asset, p.amountDue])
        .sort((x, y) => String(x).localeCompare(String(y))),
    ).toEqual(
      [
        [A, 'BTC', 40n * M],
        [B, 'COP', 3n * M],
        [C, 'COP', M / 2n],
      ].sort((x, y) => String(x).localeCompare(String(y))),
    );
    expect(payIns.find((p) => p.asset === 'BTC')?.address).toMatch(/^bcrt1q/);
    // A platform officer sees its own platform's rows only; a company sees none.
    const ownPositions = (await windows.listPositions(s.maker, first.id)).items;
    expect(new Set(ownPositions.map((p) => p.platformId))).toEqual(new Set([A]));
    expect((await windows.listPayIns(s.maker, first.id)).items.map((p) => p.platformId)).toEqual([
      A,
    ]);
    expect((await refusal(windows.listPositions(s.company, first.id))).code).toBe('FORBIDDEN');
    // The next window is open for what comes next.
    const open = (await windows.listWindows(supervisor)).items.find((w) => w.status === 'open');
    expect(open?.closesAt?.toISOString()).toBe('2026-07-01T11:00:00.000Z');
    second = open!;
    expect(await events(first.id)).toContain('settlement_window.closed');
  });

  it('refuses to close a window twice, with a closed code, changing nothing', async () => {
    const again = await refusal(windows.closeWindow(supervisor, first.id));
    expect(again.code).toBe('WINDOW_ALREADY_CLOSED');
    expect((await windows.getWindow(supervisor, first.id)).status).toBe('closed');
    expect((await refusal(windows.closeWindow(s.maker, second.id))).code).toBe('FORBIDDEN');
  });

  it('records pay-ins of the wrong amount as refusals that do not count', async () => {
    const btc = (await payInsOf(first.id)).find((p) => p.asset === 'BTC')!;
    s.clock.set('2026-07-01T10:05:00Z');
    const short = await s.payFromMiner(btc.address!, 40n * M - 1n);
    await s.mine(1);
    const cop = await refusal(
      windows.confirmFiatPayIn(supervisor, first.id, B, {
        amount: 3n * M + 1n,
        currency: 'COP',
        bankReference: 'BANREP-2026-07-01-0001',
      }),
    );
    expect(cop.code).toBe('PAY_IN_WRONG_AMOUNT');
    const payIns = await payInsOf(first.id);
    const btcNow = payIns.find((p) => p.asset === 'BTC')!;
    expect(btcNow.status).toBe('awaiting');
    expect(btcNow.refusals.map((r) => [r.reason, r.txid])).toEqual([
      ['PAY_IN_WRONG_AMOUNT', short.getId()],
    ]);
    const copNow = payIns.find((p) => p.platformId === B)!;
    expect(copNow.status).toBe('awaiting');
    expect(copNow.refusals.map((r) => r.reason)).toEqual(['PAY_IN_WRONG_AMOUNT']);
    expect(await events(btc.id)).toContain('settlement_pay_in.refused');
    // Not for an open window, nor for a platform that owes nothing in that currency.
    const open = await refusal(
      windows.confirmFiatPayIn(supervisor, second.id, B, {
        amount: 1n,
        currency: 'COP',
        bankReference: 'X',
      }),
    );
    expect(open.code).toBe('WINDOW_NOT_CLOSED');
    const none = await refusal(
      windows.confirmFiatPayIn(supervisor, first.id, A, {
        amount: 1n,
        currency: 'COP',
        bankReference: 'X',
      }),
    );
    expect(none.code).toBe('PAY_IN_NOT_FOUND');
    expect(
      (
        await refusal(
          windows.confirmFiatPayIn(s.maker, first.id, B, {
            amount: 3n * M,
            currency: 'COP',
            bankReference: 'X',
          }),
        )
      ).code,
    ).toBe('FORBIDDEN');
  });

  it('settles once every pay-in arrived (payment versus payment), with the books at zero', async () => {
    const btc = (await payInsOf(first.id)).find((p) => p.asset === 'BTC')!;
    await bankPaysIn(first.id, B, {
      amount: 3n * M,
      currency: 'COP',
      bankReference: 'BANREP-2026-07-01-0002',
    });
    // One bank transfer pays in once: its reference again is refused, nothing counted.
    expect(
      (
        await refusal(
          windows.confirmFiatPayIn(supervisor, first.id, C, {
            amount: M / 2n,
            currency: 'COP',
            bankReference: 'BANREP-2026-07-01-0002',
          }),
        )
      ).code,
    ).toBe('BANK_REFERENCE_REUSED');
    await bankPaysIn(first.id, C, {
      amount: M / 2n,
      currency: 'COP',
      bankReference: 'BANREP-2026-07-01-0003',
    });
    expect((await windows.getWindow(supervisor, first.id)).status).toBe('closed'); // BTC awaited
    // B's officer proposes where the clearing pays B, B's checker approves; C registers nothing yet.
    const registered = await registerAddress(officerOfB, checkerOfB, 31);
    expect(registered).toMatchObject({
      platformId: B,
      address: addressOfB,
      status: 'active',
      current: true,
    });
    const paid = await s.payFromMiner(btc.address!, 40n * M);
    await s.mine(1);
    const received = (await payInsOf(first.id)).find((p) => p.asset === 'BTC')!;
    expect(received).toMatchObject({ status: 'received', txid: paid.getId() });

    first = await windows.getWindow(supervisor, first.id);
    expect(first.status).toBe('settled');
    const payOuts = (await windows.listPayOuts(supervisor, first.id)).items;
    expect(
      payOuts
        .map((p) => [p.platformId, p.asset, p.kind, p.amount])
        .sort((x, y) => String(x).localeCompare(String(y))),
    ).toEqual(
      [
        [B, 'BTC', 'payOut', 30n * M],
        [C, 'BTC', 'payOut', 10n * M],
        [A, 'COP', 'payOut', (7n * M) / 2n],
      ].sort((x, y) => String(x).localeCompare(String(y))),
    );
    // 6 gross obligations, 3 pay-ins and 3 pay-outs; two bitcoin transfers instead of three.
    expect(payOuts.filter((p) => p.asset === 'BTC')).toHaveLength(2);
    // The bitcoin pay-out batch for the scheme's signer: A's pay-in in, B and C paid out.
    const batch = await windows.payOutBatch(supervisor, first.id);
    expect(batch.inputs.map((i) => [i.platformId, i.txid, i.valueSats])).toEqual([
      [A, paid.getId(), 40n * M],
    ]);
    expect(batch.outputs.map((o) => [o.platformId, o.kind, o.valueSats]).sort()).toEqual(
      [
        [B, 'payOut', 30n * M],
        [C, 'payOut', 10n * M],
      ].sort(),
    );
    expect((await refusal(windows.payOutBatch(s.maker, first.id))).code).toBe('FORBIDDEN');
    const books = await windows.reconcile(supervisor, first.id);
    expect(books.balanced).toBe(true);
    expect(books.balances.length).toBeGreaterThan(0);
    const positions = (await windows.listPositions(supervisor, first.id)).items;
    expect(positions.every((p) => p.status === 'settled' && p.netSettled === p.netAtClose)).toBe(
      true,
    );
    expect(await events(first.id)).toEqual(
      expect.arrayContaining(['settlement_window.closed', 'settlement_window.settled']),
    );
    expect(await events(received.id)).toContain('settlement_pay_in.received');
    // A late duplicate is refused, not counted.
    const late = await refusal(
      windows.confirmFiatPayIn(supervisor, first.id, C, {
        amount: M / 2n,
        currency: 'COP',
        bankReference: 'BANREP-2026-07-01-0004',
      }),
    );
    expect(late.code).toBe('PAY_IN_ALREADY_RECEIVED');
  });

  it('holds the pay-outs while a receiver has no settlement address, and refuses a listed one', async () => {
    // C has no address: its pay-out is held with its code, and nothing is signed for the window.
    expect(await offline.runDue()).toMatchObject({ signed: [], held: [first.id] });
    const held = (await windows.listPayOuts(supervisor, first.id)).items.find(
      (p) => p.platformId === C,
    )!;
    expect(held).toMatchObject({ status: 'held', heldCode: 'SETTLEMENT_ADDRESS_MISSING' });
    expect(await events(held.id)).toEqual(['settlement_pay_out.held']);
    expect((await windows.payOutBatch(supervisor, first.id)).transaction).toBeNull();
    // Held once: the next run records nothing new.
    await offline.runDue();
    expect(await events(held.id)).toEqual(['settlement_pay_out.held']);
    // A proposal alone pays nothing (four eyes): still held, still missing, until approved.
    const pending = await propose(officerOfC, 32);
    expect(pending).toMatchObject({ status: 'proposed', current: false });
    expect(await offline.runDue()).toMatchObject({ signed: [], held: [first.id] });
    expect(await events(held.id)).toEqual(['settlement_pay_out.held']);
    // Its proposer cannot approve it; the checker rejects it (it was not the treasury's).
    expect((await refusal(windows.approveSettlementAddress(officerOfC, pending.id))).code).toBe(
      'SELF_APPROVAL',
    );
    await windows.rejectSettlementAddress(checkerOfC, pending.id, { reason: 'not our treasury' });

    // A listed address is refused with the closed code, naming no list entry; nothing stored.
    await s.compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`# test list\n${listedAddress}\n`),
    });
    const listed = await refusal(propose(officerOfC, 33));
    expect(listed.code).toBe('TRANSFER_BLOCKED');
    expect(listed.message).not.toMatch(/list|entry|sanction/i);
    expect(
      (await windows.listSettlementAddresses(officerOfC, C)).items.map((a) => a.status),
    ).toEqual(['rejected']);
    expect(await events(C)).toContain('settlement_address.refused');
    // An address of another network, and a caller who is not the platform's officer.
    const mainnet = await refusal(
      windows.proposeSettlementAddress(officerOfC, {
        address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
        message: 'Hello World',
        signature: 'AkcwRAIgZ',
      }),
    );
    expect(mainnet.code).toBe('INVALID_ADDRESS');
    expect((await refusal(propose(supervisor, 32))).code).toBe('FORBIDDEN');
    // The proof is of the address's own key: a signature by another key is refused.
    const wrongKey = await refusal(
      windows.proposeSettlementAddress(officerOfC, {
        address: addressOfC,
        message: windows.settlementAddressStatement(officerOfC, { address: addressOfC }).message,
        signature: signBip322Simple({
          address: regtestKey(35).address,
          message: windows.settlementAddressStatement(officerOfC, { address: addressOfC }).message,
          privateKey: regtestKey(35).key.privateKey!,
          network: 'regtest',
        }),
      }),
    );
    expect(wrongKey.code).toBe('OWNERSHIP_PROOF_INVALID');
    // Screened again at signing: an address listed after it was registered holds the pay-out
    // for the supervisor (TRANSFER_BLOCKED, nothing signed), until the platform replaces it.
    await registerAddress(officerOfC, checkerOfC, 34);
    await s.compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`# test list\n${listedAddress}\n${regtestKey(34).address}\n`),
    });
    // Paid only while licensed: B's suspended licence holds its pay-out until reinstated. (Each
    // held receiver holds only its own pay-out: with both held, nothing is signed.)
    const [licenceOfB] = (await s.registry.listLicences(supervisor, { participantId: B })).items;
    await s.registry.changeLicenceStatus(supervisor, licenceOfB!.id, 'suspended', 'inspection');
    expect(await offline.runDue()).toMatchObject({ signed: [], held: [first.id] });
    expect(
      (await windows.listPayOuts(supervisor, first.id)).items.find((p) => p.platformId === B),
    ).toMatchObject({ status: 'held', heldCode: 'LICENCE_NOT_ACTIVE' });
    const blocked = (await windows.listPayOuts(supervisor, first.id)).items.find(
      (p) => p.platformId === C,
    )!;
    expect(blocked).toMatchObject({ status: 'held', heldCode: 'TRANSFER_BLOCKED' });
    expect((await windows.payOutBatch(supervisor, first.id)).transaction).toBeNull();
    // The supervisor is alerted in compliance's queue, in C's case (a screening alert: critical),
    // once: the job's next runs hold nothing new and raise nothing more. No missing address is.
    expect(await holdAlerts(first.id)).toEqual([
      ['LICENCE_NOT_ACTIVE', B, 'high'],
      ['TRANSFER_BLOCKED', C, 'critical'],
    ]);
    await offline.runDue();
    await offline.runDue();
    expect(await holdAlerts(first.id)).toEqual([
      ['LICENCE_NOT_ACTIVE', B, 'high'],
      ['TRANSFER_BLOCKED', C, 'critical'],
    ]);
    // A platform's officer reads no alert (nor the case), and its pay-out names none; the message
    // names no list entry.
    expect((await refusal(s.compliance.cases.alerts(officerOfC))).code).toBe('FORBIDDEN');
    const ownPayOuts = (await windows.listPayOuts(officerOfC, first.id)).items;
    expect(ownPayOuts.map((p) => p.platformId)).toEqual([C]);
    expect(
      JSON.stringify(ownPayOuts, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toMatch(/alert|case_/i);
    const [blockedAlert] = (
      await s.compliance.cases.alerts(supervisor, { rule: PAY_OUT_HELD_RULE, partyId: C })
    ).items;
    expect(blockedAlert!.message).toContain(first.id);
    expect(blockedAlert!.message).not.toMatch(/test list|entry|sanction/i);
    const heldAgain = (await listAuditEvents(s.db.orm, { entityId: held.id }, { limit: 10 })).items;
    expect(heldAgain.map((e) => (e.after as { code?: string } | null)?.code).sort()).toEqual([
      'SETTLEMENT_ADDRESS_MISSING',
      'TRANSFER_BLOCKED',
    ]);
    // Replaceable, on four eyes: proposed, the listed one stays the one paid (still held) …
    const replacement = await propose(officerOfC, 32);
    expect(await offline.runDue()).toMatchObject({ signed: [], held: [first.id] });
    // … until another officer approves it: the newest active counts, the history stays. B is
    // reinstated with it: the next run pays both in one transaction.
    await windows.approveSettlementAddress(checkerOfC, replacement.id);
    await s.registry.changeLicenceStatus(supervisor, licenceOfB!.id, 'active', null);
    const history = (await windows.listSettlementAddresses(supervisor, C)).items;
    expect(history.map((a) => [a.address, a.status, a.current])).toEqual([
      [addressOfC, 'active', true],
      [regtestKey(34).address, 'active', false],
      [addressOfC, 'rejected', false],
    ]);
    expect((await refusal(windows.listSettlementAddresses(officerOfB, C))).code).toBe(
      'PARTICIPANT_NOT_FOUND',
    );
    expect((await windows.listSettlementAddresses(s.maker, A)).items).toEqual([]);
  });

  it('pays the net receivers in one signed transaction, stored before it is sent and sent once', async () => {
    // Signed and stored, but the chain cannot be reached (a crash before the broadcast) …
    expect(await offline.runDue()).toMatchObject({ signed: [first.id], broadcast: [] });
    const stored = (await windows.payOutBatch(supervisor, first.id)).transaction!;
    expect(stored.status).toBe('signed');
    // … a second run signs nothing new, and the restarted server sends the same transaction.
    expect(await offline.runDue()).toMatchObject({ signed: [], broadcast: [] });
    // (Had earlier sends been refused for missing inputs, one short of the hold, the acceptance
    // clears the count: only consecutive refusals hold a transaction.)
    await s.db.orm.execute(
      sql`update clearing_pay_out_transactions set attempts = ${MISSING_INPUT_ATTEMPTS - 1}, last_error = 'missingInputs: missing-inputs' where window_id = ${first.id}`,
    );
    expect(await windows.runDue()).toMatchObject({ signed: [], broadcast: [first.id] });
    expect((await windows.payOutBatch(supervisor, first.id)).transaction).toMatchObject({
      status: 'broadcast',
      attempts: 0,
      lastError: null,
    });
    expect(await windows.runDue()).toMatchObject({ signed: [], broadcast: [] });
    const batch = await windows.payOutBatch(supervisor, first.id);
    expect(batch.transaction).toMatchObject({ txid: stored.txid, status: 'broadcast' });
    expect((await events(first.id)).filter((e) => e === 'settlement_pay_out.signed')).toHaveLength(
      1,
    );

    await s.mine(1);
    const confirmed = await windows.payOutBatch(supervisor, first.id);
    expect(confirmed.transaction).toMatchObject({ txid: stored.txid, status: 'confirmed' });
    // Read back from the chain: A's pay-in in, exactly B's and C's net amounts out, at their
    // registered addresses, less each one's pro rata share of the fee; nothing else.
    const onChain = parseTransaction(await s.source.getRawTransaction(stored.txid));
    expect(onChain.inputs.map((i) => i.prevTxid)).toEqual([batch.inputs[0]!.txid]);
    const received = new Map(
      onChain.outputs.map((o) => [addressFromScript(o.scriptPubKey, 'regtest'), o.value]),
    );
    const out = (platform: string) => confirmed.outputs.find((o) => o.platformId === platform)!;
    expect(out(B)).toMatchObject({ address: addressOfB, valueSats: 30n * M, status: 'confirmed' });
    expect(out(C)).toMatchObject({ address: addressOfC, valueSats: 10n * M, status: 'confirmed' });
    expect(received).toEqual(
      new Map([
        [addressOfB, 30n * M - out(B).feeSats!],
        [addressOfC, 10n * M - out(C).feeSats!],
      ]),
    );
    const fee = 40n * M - [...received.values()].reduce((a, v) => a + v, 0n);
    expect(fee).toBe(stored.feeSats);
    expect(out(B).feeSats! + out(C).feeSats!).toBe(fee);
    // Pro rata: B's share is three times C's (to the sat of rounding).
    expect(out(B).feeSats! - 3n * out(C).feeSats!).toBeLessThanOrEqual(3n);
    // The books: every account at zero, the fee posted through its account.
    const books = await windows.reconcile(supervisor, first.id);
    expect(books.balanced).toBe(true);
    expect(books.balances.some((b) => b.account === 'network-fee')).toBe(true);

    // A reorganization takes the confirmation back; the next block confirms it again.
    await s.simnet.invalidateBlock(s.simnet.tip().hash);
    await s.watcher.syncOnce();
    expect((await windows.payOutBatch(supervisor, first.id)).transaction?.status).toBe('broadcast');
    await s.mine(1);
    expect((await windows.payOutBatch(supervisor, first.id)).transaction).toMatchObject({
      txid: stored.txid,
      status: 'confirmed',
    });
    // (The clock stands still here, so the events are compared as a set with their counts.)
    expect(
      (await events(first.id)).filter((e) => e.startsWith('settlement_pay_out.')).sort(),
    ).toEqual([
      'settlement_pay_out.broadcast',
      'settlement_pay_out.confirmed',
      'settlement_pay_out.confirmed',
      'settlement_pay_out.signed',
      'settlement_pay_out.unconfirmed',
    ]);
  });

  it('takes out a platform that fails to pay in: the others settle, the books balance, its obligations roll on', async () => {
    s.clock.set('2026-07-01T10:20:00Z');
    // Bitcoin: A → B 40, C → B 5. Pesos: B → A 2, B → C 1.
    await record({
      source: 'deal',
      sourceId: 'deal_4',
      from: A,
      to: B,
      asset: 'BTC',
      amount: 40n * M,
    });
    await record({
      source: 'deal',
      sourceId: 'deal_5',
      from: C,
      to: B,
      asset: 'BTC',
      amount: 5n * M,
    });
    await record({
      source: 'deal',
      sourceId: 'deal_4',
      from: B,
      to: A,
      asset: 'COP',
      amount: 2n * M,
    });
    await record({
      source: 'transfer',
      sourceId: 'trf_3',
      from: B,
      to: C,
      asset: 'COP',
      amount: M,
    });
    s.clock.set('2026-07-01T11:00:01Z');
    expect((await windows.runDue()).closed).toEqual([second.id]);
    const due = await payInsOf(second.id);
    const dueOf = (platform: string, asset: string) =>
      due.find((p) => p.platformId === platform && p.asset === asset)!;
    expect(dueOf(A, 'BTC').amountDue).toBe(40n * M);
    expect(dueOf(C, 'BTC').amountDue).toBe(5n * M);
    expect(dueOf(B, 'COP').amountDue).toBe(3n * M);

    // A pays on-chain, B by bank; C never pays.
    await s.payFromMiner(dueOf(A, 'BTC').address!, 40n * M);
    await s.mine(1);
    await bankPaysIn(second.id, B, {
      amount: 3n * M,
      currency: 'COP',
      bankReference: 'BANREP-2026-07-01-0101',
    });
    expect((await windows.runDue()).settled).toEqual([]); // before the deadline: wait
    s.clock.set('2026-07-01T11:30:02Z');
    expect((await windows.runDue()).settled).toEqual([second.id]);

    second = await windows.getWindow(supervisor, second.id);
    expect(second.status).toBe('settled');
    const positions = (await windows.listPositions(supervisor, second.id)).items;
    const of = (platform: string, asset: string) =>
      positions.find((p) => p.platformId === platform && p.asset === asset);
    expect(of(C, 'BTC')?.status).toBe('takenOut');
    expect(of(C, 'COP')?.status).toBe('takenOut');
    // Recomputed without C: A pays B 40 in bitcoin, B pays A 2 in pesos.
    expect(of(B, 'BTC')).toMatchObject({
      status: 'settled',
      netAtClose: 45n * M,
      netSettled: 40n * M,
    });
    expect(of(B, 'COP')).toMatchObject({ netAtClose: -3n * M, netSettled: -2n * M });
    const payOuts = (await windows.listPayOuts(supervisor, second.id)).items;
    expect(
      payOuts
        .map((p) => [p.platformId, p.asset, p.kind, p.amount])
        .sort((x, y) => String(x).localeCompare(String(y))),
    ).toEqual(
      [
        [B, 'BTC', 'payOut', 40n * M],
        [A, 'COP', 'payOut', 2n * M],
        [B, 'COP', 'refund', M], // B paid in for C's peso too
      ].sort((x, y) => String(x).localeCompare(String(y))),
    );
    expect((await windows.reconcile(supervisor, second.id)).balanced).toBe(true);
    expect(await events(second.id)).toEqual(
      expect.arrayContaining(['settlement_window.takenOut', 'settlement_window.settled']),
    );

    // C's obligations are in the next window, and net there when it closes.
    third = (await windows.listWindows(supervisor)).items.find((w) => w.status === 'open')!;
    s.clock.set('2026-07-01T12:00:00Z');
    expect((await windows.runDue()).closed).toEqual([third.id]);
    const rolled = (await windows.listPositions(supervisor, third.id)).items;
    const net = (platform: string, asset: string) =>
      rolled.find((p) => p.platformId === platform && p.asset === asset)?.netAtClose;
    expect([net(C, 'BTC'), net(B, 'BTC'), net(C, 'COP'), net(B, 'COP')]).toEqual([
      -5n * M,
      5n * M,
      M,
      -M,
    ]);
    expect(net(A, 'BTC')).toBeUndefined();
    // Its books so far: the obligations rolled in, nothing paid yet.
    const books = await windows.reconcile(supervisor, third.id);
    expect(
      books.balances.find((b) => b.account === `platform:${C}` && b.asset === 'BTC')?.balance,
    ).toBe(5n * M);
  });
  it('holds a window with an output below dust after its fee share, and builds the others past one that cannot be built', async () => {
    // The third window settles: C pays in its bitcoin, B its pesos.
    const due = await payInsOf(third.id);
    await bankPaysIn(third.id, B, {
      amount: M,
      currency: 'COP',
      bankReference: 'BANREP-2026-07-01-0201',
    });
    await s.payFromMiner(
      due.find((p) => p.platformId === C && p.asset === 'BTC')!.address!,
      5n * M,
    );
    await s.mine(1);
    expect((await windows.getWindow(supervisor, third.id)).status).toBe('settled');
    // Its books no longer balance (B's pay-out a sat above what came in): it cannot be built.
    await s.db.orm.execute(
      sql`update clearing_pay_outs set amount = amount + 1 where window_id = ${third.id} and asset = 'BTC'`,
    );
    // The fourth: A owes B 10 million sats and C 500, below the dust limit after C's fee share.
    s.clock.set('2026-07-01T12:10:00Z');
    await record({
      source: 'deal',
      sourceId: 'deal_6',
      from: A,
      to: B,
      asset: 'BTC',
      amount: 10n * M,
    });
    await record({
      source: 'deal',
      sourceId: 'deal_7',
      from: A,
      to: C,
      asset: 'BTC',
      amount: 500n,
    });
    fourth = (await windows.listWindows(supervisor)).items.find((w) => w.status === 'open')!;
    await windows.closeWindow(supervisor, fourth.id);
    // The fifth: A owes B 2 million sats.
    await record({
      source: 'deal',
      sourceId: 'deal_8',
      from: A,
      to: B,
      asset: 'BTC',
      amount: 2n * M,
    });
    fifth = (await windows.listWindows(supervisor)).items.find((w) => w.status === 'open')!;
    await windows.closeWindow(supervisor, fifth.id);
    const dueOfA = async (windowId: string) =>
      (await payInsOf(windowId)).find((p) => p.platformId === A && p.asset === 'BTC')!;
    await s.payFromMiner((await dueOfA(fourth.id)).address!, 10n * M + 500n);
    await s.payFromMiner((await dueOfA(fifth.id)).address!, 2n * M);
    await s.mine(1);
    expect((await windows.getWindow(supervisor, fourth.id)).status).toBe('settled');
    expect((await windows.getWindow(supervisor, fifth.id)).status).toBe('settled');

    // One run: the third fails (its error fails the run, for the job's log) and builds nothing;
    // the fourth is held for the supervisor (C's output would be dust), nothing signed; the
    // fifth is signed and sent all the same.
    expect((await refusal(windows.runDue())).code).toBe('LEDGER_UNBALANCED');
    expect((await windows.payOutBatch(supervisor, third.id)).transaction).toBeNull();
    const held = await windows.payOutBatch(supervisor, fourth.id);
    expect(held.transaction).toBeNull();
    const dust = held.outputs.find((o) => o.platformId === C)!;
    expect(dust).toMatchObject({ status: 'held', heldCode: 'PAY_OUT_BELOW_DUST' });
    expect(held.outputs.find((o) => o.platformId === B)).toMatchObject({ status: 'instructed' });
    const heldEvents = (await listAuditEvents(s.db.orm, { entityId: dust.payOutId }, { limit: 10 }))
      .items;
    expect(heldEvents.map((e) => [e.action, e.after])).toEqual([
      [
        'settlement_pay_out.held',
        expect.objectContaining({ code: 'PAY_OUT_BELOW_DUST', alert: 'supervisor', amount: '500' }),
      ],
    ]);
    expect((await windows.payOutBatch(supervisor, fifth.id)).transaction).toMatchObject({
      status: 'broadcast',
    });

    // Repaired, the third is built and sent; the fourth stays held, its hold audited once.
    await s.db.orm.execute(
      sql`update clearing_pay_outs set amount = amount - 1 where window_id = ${third.id} and asset = 'BTC'`,
    );
    expect(await windows.runDue()).toMatchObject({
      signed: [third.id],
      broadcast: [third.id],
      held: [fourth.id],
    });
    expect((await windows.payOutBatch(supervisor, third.id)).transaction?.status).toBe('broadcast');
    expect(await events(dust.payOutId)).toEqual(['settlement_pay_out.held']);
    expect((await windows.payOutBatch(supervisor, fourth.id)).transaction).toBeNull();
    // One alert for the window, in its own case (no platform is at fault), raised once.
    expect(await holdAlerts(fourth.id)).toEqual([['PAY_OUT_BELOW_DUST', fourth.id, 'high']]);
  });
  it('completes a pay-out at the scheme confirmation depth, undoes it in a reorganization, and sends it again while no block has it', async () => {
    // The scheme waits for two confirmations (its floor): pay-outs too.
    await s.trade.updateFloors(supervisor, { minConfirmations: 2 });
    const tx = async (windowId: string) =>
      (await windows.payOutBatch(supervisor, windowId)).transaction!;
    const { txid } = await tx(fifth.id);
    // In the node's mempool: sent again on every run, the node has it, nothing is recorded.
    const before = await events(fifth.id);
    expect(await windows.runDue()).toMatchObject({ signed: [], broadcast: [], resent: [] });
    expect(await events(fifth.id)).toEqual(before);

    await s.mine(1);
    const height = s.simnet.tip().height;
    const block = s.simnet.tip().hash;
    expect(await tx(fifth.id)).toMatchObject({
      txid,
      status: 'broadcast',
      blockHash: block,
      blockHeight: height,
    });
    expect((await windows.payOutBatch(supervisor, fifth.id)).outputs.map((o) => o.status)).toEqual([
      'broadcast',
    ]);
    await s.mine(1);
    expect(await tx(fifth.id)).toMatchObject({ status: 'confirmed', blockHash: block });
    expect((await windows.payOutBatch(supervisor, fifth.id)).outputs.map((o) => o.status)).toEqual([
      'confirmed',
    ]);
    // The block above it taken away: a confirmation short, it waits in its block.
    await s.simnet.invalidateBlock(s.simnet.tip().hash);
    await s.watcher.syncOnce();
    expect(await tx(fifth.id)).toMatchObject({ status: 'broadcast', blockHash: block });
    await s.mine(1);
    expect(await tx(fifth.id)).toMatchObject({ status: 'confirmed', blockHash: block });
    // Its own block taken away: out of every block, back in the node's mempool.
    await s.simnet.invalidateBlock(block);
    await s.watcher.syncOnce();
    expect(await tx(fifth.id)).toMatchObject({ status: 'broadcast', blockHash: null });
    expect(await windows.runDue()).toMatchObject({ resent: [] });

    // A node that lost it (restarted without its mempool): the job sends the same bytes again.
    await s.db.orm.execute(sql`delete from simnet_mempool`);
    const restarted = await Simnet.open({ db: s.db, clock: s.clock });
    expect(restarted.mempoolTxids()).not.toContain(txid);
    const onRestarted = new SettlementWindowService({
      ...deps,
      chain: new SimnetChainSource(restarted),
    });
    const third_ = await tx(third.id);
    expect(await onRestarted.runDue()).toMatchObject({
      signed: [],
      broadcast: [],
      resent: [fifth.id, third.id],
    });
    expect(restarted.mempoolTxids()).toEqual(expect.arrayContaining([txid, third_.txid]));
    expect(await onRestarted.runDue()).toMatchObject({ resent: [] });
    expect((await events(fifth.id)).filter((e) => e === 'settlement_pay_out.resent')).toHaveLength(
      1,
    );
    expect((await events(fifth.id)).filter((e) => e === 'settlement_pay_out.signed')).toHaveLength(
      1,
    );
    expect((await tx(fifth.id)).txid).toBe(txid);

    await s.mine(2);
    expect(await tx(fifth.id)).toMatchObject({ txid, status: 'confirmed' });
    expect(await tx(third.id)).toMatchObject({ txid: third_.txid, status: 'confirmed' });
    await s.trade.updateFloors(supervisor, { minConfirmations: 1 });
  });
  it('holds a pay-out transaction whose pay-in outpoint stays missing after its bounded attempts, signing nothing again', async () => {
    s.clock.set('2026-07-01T12:20:00Z');
    await record({ source: 'deal', sourceId: 'deal_9', from: A, to: B, asset: 'BTC', amount: M });
    const sixth = (await windows.listWindows(supervisor)).items.find((w) => w.status === 'open')!;
    heldWindow = sixth.id;
    await windows.closeWindow(supervisor, sixth.id);
    const payIn = (await payInsOf(sixth.id)).find((p) => p.platformId === A)!;
    await s.payFromMiner(payIn.address!, M);
    await s.mine(1);
    expect(await offline.runDue()).toMatchObject({ signed: [sixth.id], broadcast: [] });
    const batch = await windows.payOutBatch(supervisor, sixth.id);
    const { txid } = batch.transaction!;
    // Before it is sent, the pay-in's outpoint is spent by another transaction (one the
    // clearing's key signed elsewhere), mined: the stored transaction's input is missing for good.
    const conflict = await spendElsewhere(batch.inputs[0]!);
    conflictTxid = conflict.txid;
    await s.source.broadcast(conflict.raw);
    await s.mine(1);

    // Each send is refused (missing inputs): counted, the error recorded, retried after a backoff…
    expect(await windows.runDue()).toMatchObject({ broadcast: [], resent: [] });
    expect((await windows.payOutBatch(supervisor, sixth.id)).transaction).toMatchObject({
      txid,
      status: 'signed',
      attempts: 1,
    });
    expect((await windows.payOutBatch(supervisor, sixth.id)).transaction?.lastError).toMatch(
      /^missingInputs/,
    );
    const refusedAgain = async (attempt: number) => {
      s.clock.set(new Date(s.clock.now().getTime() + 61 * 60_000).toISOString());
      await windows.runDue();
      expect((await windows.payOutBatch(supervisor, sixth.id)).transaction?.attempts).toBe(attempt);
    };
    for (let attempt = 2; attempt < MISSING_INPUT_ATTEMPTS; attempt++) await refusedAgain(attempt);
    // Consecutive refusals only: one of another kind in between (a fee too low, recorded as the
    // job records it) starts the count again, so the next missing input is the first.
    await s.db.orm.execute(
      sql`update clearing_pay_out_transactions set attempts = 1, last_error = 'feeTooLow: min relay fee not met' where window_id = ${sixth.id}`,
    );
    await refusedAgain(1);
    expect((await windows.payOutBatch(supervisor, sixth.id)).transaction?.status).toBe('signed');
    for (let attempt = 2; attempt <= MISSING_INPUT_ATTEMPTS; attempt++) await refusedAgain(attempt);
    // … until the last allowed attempt: held for the supervisor with its closed code, audited once.
    const held = (await windows.payOutBatch(supervisor, sixth.id)).transaction!;
    expect(held).toMatchObject({
      txid,
      status: 'held',
      heldCode: 'PAY_IN_OUTPOINT_MISSING',
      nextAttemptAt: null,
    });
    expect(held.lastError).toMatch(/^missingInputs/);
    s.clock.set(new Date(s.clock.now().getTime() + 3 * 3_600_000).toISOString());
    await windows.runDue();
    expect((await windows.payOutBatch(supervisor, sixth.id)).transaction).toMatchObject({
      txid,
      status: 'held',
      attempts: MISSING_INPUT_ATTEMPTS,
    });
    const audit = (await listAuditEvents(s.db.orm, { entityId: sixth.id }, { limit: 100 })).items;
    const heldEvents = audit.filter((e) => e.action === 'settlement_pay_out.transactionHeld');
    expect(heldEvents.map((e) => e.after)).toEqual([
      expect.objectContaining({
        code: 'PAY_IN_OUTPOINT_MISSING',
        alert: 'supervisor',
        attempts: MISSING_INPUT_ATTEMPTS,
      }),
    ]);
    expect(audit.filter((e) => e.action === 'settlement_pay_out.broadcastRetrying')).toHaveLength(
      2 * (MISSING_INPUT_ATTEMPTS - 1),
    );
    // Never signed twice.
    expect(audit.filter((e) => e.action === 'settlement_pay_out.signed')).toHaveLength(1);
    // The supervisor's alert, in the window's case, once (the held run and the next).
    expect(await holdAlerts(sixth.id)).toEqual([['PAY_IN_OUTPOINT_MISSING', sixth.id, 'high']]);
  });
  it('resumes a transaction held for missing inputs on the supervisor word, when rebuilt it would be the same', async () => {
    const sixth = await windows.getWindow(supervisor, heldWindow);
    const held = (await windows.payOutBatch(supervisor, sixth.id)).transaction!;
    expect(held).toMatchObject({ status: 'held', heldCode: 'PAY_IN_OUTPOINT_MISSING' });
    // A confirmed one is not rebuilt (409); only the supervisor rebuilds.
    expect((await refusal(windows.rebuildPayOut(supervisor, fifth.id))).code).toBe(
      'PAY_OUT_NOT_REJECTED',
    );
    expect((await refusal(windows.rebuildPayOut(s.maker, sixth.id))).code).toBe('FORBIDDEN');
    // Rebuilt at the fee rate and addresses of its signing, it is the same transaction: put
    // back to `signed`, its attempts cleared, audited as the supervisor's resume; no new fee entry.
    const resumed = await offline.rebuildPayOut(supervisor, sixth.id);
    expect(resumed.transaction).toMatchObject({
      txid: held.txid,
      status: 'signed',
      heldCode: null,
      attempts: 0,
      lastError: null,
      nextAttemptAt: null,
      replacedTxids: [],
    });
    const audit = (await listAuditEvents(s.db.orm, { entityId: sixth.id }, { limit: 100 })).items;
    expect(
      audit
        .filter((e) => e.action === 'settlement_pay_out.resumed')
        .map((e) => [e.actor, e.before, e.after]),
    ).toEqual([
      [
        supervisor.actorId,
        expect.objectContaining({ status: 'held', code: 'PAY_IN_OUTPOINT_MISSING' }),
        expect.objectContaining({ status: 'signed', txid: held.txid }),
      ],
    ]);
    expect(audit.filter((e) => e.action === 'settlement_pay_out.rebuilt')).toEqual([]);
    const feeEntries = rowsOf(
      await s.db.orm.execute(
        sql`select distinct entry from clearing_window_postings where window_id = ${sixth.id} and kind = 'payOut.networkFee'`,
      ),
    );
    expect(feeEntries).toHaveLength(1);
    expect((await windows.reconcile(supervisor, sixth.id)).balanced).toBe(true);
    // The job sends it again; its input still missing, the count starts from one, not past the hold.
    await windows.runDue();
    expect((await windows.payOutBatch(supervisor, sixth.id)).transaction).toMatchObject({
      txid: held.txid,
      status: 'signed',
      attempts: 1,
    });
  });
  it('rebuilds a pay-out transaction the network rejected for good, as at signing, on the supervisor word only', async () => {
    // The seventh window pays B; before its transaction is sent, the pay-in's outpoint is spent
    // by another transaction in the node's mempool (no replacement signalled): refused for good.
    await record({ source: 'deal', sourceId: 'deal_10', from: A, to: B, asset: 'BTC', amount: M });
    const seventh = (await windows.listWindows(supervisor, { limit: 100 })).items.find(
      (w) => w.status === 'open',
    )!;
    await windows.closeWindow(supervisor, seventh.id);
    const payIn = (await payInsOf(seventh.id)).find((p) => p.platformId === A)!;
    await s.payFromMiner(payIn.address!, M);
    await s.mine(1);
    expect(await offline.runDue()).toMatchObject({ signed: [seventh.id] });
    const batch = await windows.payOutBatch(supervisor, seventh.id);
    const old = batch.transaction!.txid;
    await s.source.broadcast((await spendElsewhere(batch.inputs[0]!)).raw);
    await windows.runDue();
    const rejected = (await windows.payOutBatch(supervisor, seventh.id)).transaction!;
    expect(rejected).toMatchObject({ txid: old, status: 'rejected' });
    expect(rejected.lastError).toMatch(/txn-mempool-conflict/);
    expect(await holdAlerts(seventh.id)).toEqual([['PAY_OUT_REJECTED', seventh.id, 'high']]);

    // Checked again as at signing: B's licence suspended refuses the rebuild, nothing written.
    const [licenceOfB] = (await s.registry.listLicences(supervisor, { participantId: B })).items;
    await s.registry.changeLicenceStatus(supervisor, licenceOfB!.id, 'suspended', 'inspection');
    expect((await refusal(windows.rebuildPayOut(supervisor, seventh.id))).code).toBe(
      'LICENCE_NOT_ACTIVE',
    );
    await s.registry.changeLicenceStatus(supervisor, licenceOfB!.id, 'active', null);
    const feeSigned = await feeBooks(seventh.id);
    expect(feeSigned).toEqual({
      shown: rejected.feeSats,
      entries: [{ entry: `pay-out-fee:${seventh.id}`, reversed: 0 }],
    });
    // B's address listed since: refused (TRANSFER_BLOCKED), nothing rebuilt, but the refusal is
    // audited with an alert for the supervisor, as the hold at signing is.
    await s.compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(
        `# test list\n${listedAddress}\n${regtestKey(34).address}\n${addressOfB}\n`,
      ),
    });
    expect((await refusal(windows.rebuildPayOut(supervisor, seventh.id))).code).toBe(
      'TRANSFER_BLOCKED',
    );
    // Each refusal raises its alert (B's case for its checks), the same one tried again none more.
    expect((await refusal(windows.rebuildPayOut(supervisor, seventh.id))).code).toBe(
      'TRANSFER_BLOCKED',
    );
    expect(await holdAlerts(seventh.id)).toEqual([
      ['LICENCE_NOT_ACTIVE', B, 'high'],
      ['PAY_OUT_REJECTED', seventh.id, 'high'],
      ['TRANSFER_BLOCKED', B, 'critical'],
    ]);
    // Once the supervisor closed B's case, the same refusal is alerted anew (in a new case).
    const [caseOfB] = (await s.compliance.cases.list(supervisor, { partyId: B, state: 'open' }))
      .items;
    await s.compliance.cases.update(supervisor, caseOfB!.id, { state: 'investigating' });
    await s.compliance.cases.update(supervisor, caseOfB!.id, {
      state: 'closed',
      outcome: 'falsePositive',
    });
    expect((await refusal(windows.rebuildPayOut(supervisor, seventh.id))).code).toBe(
      'TRANSFER_BLOCKED',
    );
    const blockedAlerts = (await holdAlerts(seventh.id)).filter((a) => a[0] === 'TRANSFER_BLOCKED');
    expect(blockedAlerts).toHaveLength(2);
    const refusedAudit = (
      await listAuditEvents(s.db.orm, { entityId: seventh.id }, { limit: 100 })
    ).items.filter((e) => e.action === 'settlement_pay_out.rebuildRefused');
    // Every refusal audited with its code, the licence's too (newest first).
    const blockedRefusal = [
      supervisor.actorId,
      expect.objectContaining({
        code: 'TRANSFER_BLOCKED',
        alert: 'supervisor',
        payOuts: [expect.objectContaining({ platformId: B })],
      }),
    ];
    expect(refusedAudit.map((e) => [e.actor, e.after])).toEqual([
      blockedRefusal,
      blockedRefusal,
      blockedRefusal,
      [
        supervisor.actorId,
        expect.objectContaining({
          code: 'LICENCE_NOT_ACTIVE',
          alert: 'supervisor',
          payOuts: [expect.objectContaining({ platformId: B })],
        }),
      ],
    ]);
    // Refused, nothing of the rebuild written: the fee entry as it was.
    expect(await feeBooks(seventh.id)).toEqual(feeSigned);
    expect((await windows.payOutBatch(supervisor, seventh.id)).transaction).toMatchObject({
      txid: old,
      status: 'rejected',
      replacedTxids: [],
    });
    rebuiltWindow = seventh.id;
    replacedRaw = String(
      rowsOf(
        await s.db.orm.execute(
          sql`select raw from clearing_pay_out_transactions where window_id = ${seventh.id}`,
        ),
      )[0]?.raw,
    );
    // B registers a new address: rebuilt to it, stored (signed) before it is sent, both txids audited.
    const newAddressOfB = regtestKey(41).address;
    await registerAddress(officerOfB, checkerOfB, 41);
    const rebuilt = await windows.rebuildPayOut(supervisor, seventh.id);
    expect(rebuilt.transaction).toMatchObject({ status: 'signed', replacedTxids: [old] });
    const txid = rebuilt.transaction!.txid;
    expect(txid).not.toBe(old);
    expect(rebuilt.outputs).toEqual([
      expect.objectContaining({ platformId: B, address: newAddressOfB, status: 'signed' }),
    ]);
    const audit = (await listAuditEvents(s.db.orm, { entityId: seventh.id }, { limit: 100 })).items;
    expect(
      audit
        .filter((e) => e.action === 'settlement_pay_out.rebuilt')
        .map((e) => [e.actor, e.before, e.after]),
    ).toEqual([
      [
        supervisor.actorId,
        expect.objectContaining({ status: 'rejected', txid: old }),
        expect.objectContaining({ txid, replacedTxid: old }),
      ],
    ]);
    // The rejected one's fee entry reversed, the rebuilt one's posted: the books show its fee
    // only, and balance account by account.
    const feeRebuilt = {
      shown: rebuilt.transaction!.feeSats,
      entries: [
        { entry: `pay-out-fee:${seventh.id}`, reversed: 1 },
        { entry: `pay-out-fee:${seventh.id}:${txid}`, reversed: 0 },
      ],
    };
    expect(await feeBooks(seventh.id)).toEqual(feeRebuilt);
    await booksAtZero(seventh.id);
    // A second rebuild of what is now signed: 409, and the old fee is not reversed again.
    expect((await refusal(windows.rebuildPayOut(supervisor, seventh.id))).code).toBe(
      'PAY_OUT_NOT_REJECTED',
    );
    expect(await feeBooks(seventh.id)).toEqual(feeRebuilt);
    // The job sends the new one; from the same pay-ins, the double spend still refuses it.
    await windows.runDue();
    expect((await windows.payOutBatch(supervisor, seventh.id)).transaction).toMatchObject({
      txid,
      status: 'rejected',
      replacedTxids: [old],
    });
    // Rebuilt again with nothing changed (the same address and fee rate), it would be the same
    // transaction the network just refused: refused, nothing written.
    expect((await refusal(windows.rebuildPayOut(supervisor, seventh.id))).code).toBe(
      'PAY_OUT_REBUILD_UNCHANGED',
    );
    expect((await windows.payOutBatch(supervisor, seventh.id)).transaction).toMatchObject({
      txid,
      status: 'rejected',
      replacedTxids: [old],
    });
    // Audited too, without an alert; the fee entries as they were.
    const [unchanged] = (
      await listAuditEvents(s.db.orm, { entityId: seventh.id }, { limit: 100 })
    ).items.filter((e) => e.action === 'settlement_pay_out.rebuildRefused');
    expect(unchanged?.after).toEqual({ code: 'PAY_OUT_REBUILD_UNCHANGED', payOuts: [] });
    // Rejected again (the rebuilt one) while its alert is open, and refused unchanged: no alert more.
    expect((await holdAlerts(seventh.id)).map((a) => a[0])).toEqual([
      'LICENCE_NOT_ACTIVE',
      'PAY_OUT_REJECTED',
      'TRANSFER_BLOCKED',
      'TRANSFER_BLOCKED',
    ]);
    expect(await feeBooks(seventh.id)).toEqual(feeRebuilt);
    await booksAtZero(seventh.id);
  });
  it('holds the rebuilt transaction for the supervisor when the one it replaced is mined after all', async () => {
    const { txid, replacedTxids } = (await windows.payOutBatch(supervisor, rebuiltWindow))
      .transaction!;
    const [old] = replacedTxids;
    // A miner that had the replaced transaction mines it (not the conflict in the node's mempool).
    const [block] = await s.simnet.mineOn(s.simnet.tip().hash, 1, regtestKey(40).address, {
      txs: [fromHex(replacedRaw)],
    });
    await s.watcher.syncOnce();
    expect(s.simnet.transaction(old!)?.blockHash).toBe(block);
    // Fail closed: the stored one (which can never be mined now) is held with its closed code,
    // audited with the mined txid and its block, an alert for the supervisor.
    expect((await windows.payOutBatch(supervisor, rebuiltWindow)).transaction).toMatchObject({
      txid,
      status: 'held',
      heldCode: 'REPLACED_TRANSACTION_MINED',
      replacedTxids: [old],
      nextAttemptAt: null,
      mined: { txid: old, blockHash: block, blockHeight: s.simnet.tip().height },
    });
    const heldEvents = async () =>
      (await listAuditEvents(s.db.orm, { entityId: rebuiltWindow }, { limit: 100 })).items.filter(
        (e) => e.action === 'settlement_pay_out.transactionHeld',
      );
    expect((await heldEvents()).map((e) => e.after)).toEqual([
      expect.objectContaining({
        code: 'REPLACED_TRANSACTION_MINED',
        txid,
        minedTxid: old,
        blockHash: block,
        alert: 'supervisor',
      }),
    ]);
    expect(await holdAlerts(rebuiltWindow)).toContainEqual([
      'REPLACED_TRANSACTION_MINED',
      rebuiltWindow,
      'high',
    ]);
    // Not sent, not rebuilt (by hand, for the supervisor), and held once.
    expect((await refusal(windows.rebuildPayOut(supervisor, rebuiltWindow))).code).toBe(
      'PAY_OUT_NOT_REJECTED',
    );
    await windows.runDue();
    await s.mine(1);
    expect((await windows.payOutBatch(supervisor, rebuiltWindow)).transaction).toMatchObject({
      txid,
      status: 'held',
      heldCode: 'REPLACED_TRANSACTION_MINED',
    });
    expect(await heldEvents()).toHaveLength(1);
  });
  it('refuses to adopt a mined transaction that does not pay the window receivers, writing nothing but the audited refusal', async () => {
    // The held window's pay-in was spent by a transaction the clearing's key signed elsewhere,
    // mined: made to look like one its rebuild replaced, it pays an address no platform approved.
    const [saved] = rowsOf(
      await s.db.orm.execute(
        sql`select status, held_code, replaced_txids::text as replaced from clearing_pay_out_transactions where window_id = ${heldWindow}`,
      ),
    );
    await s.db.orm.execute(
      sql`update clearing_pay_out_transactions set status = 'held', held_code = 'REPLACED_TRANSACTION_MINED', replaced_txids = ${JSON.stringify([conflictTxid])}::jsonb, mined_txid = ${conflictTxid} where window_id = ${heldWindow}`,
    );
    const before = await windows.payOutBatch(supervisor, heldWindow);
    expect(before.transaction?.mined).toEqual({
      txid: conflictTxid,
      blockHash: null,
      blockHeight: null,
    });
    const fees = await feeBooks(heldWindow);
    const error = await refusal(windows.adoptMinedPayOut(supervisor, heldWindow));
    expect(error.code).toBe('MINED_TRANSACTION_MISMATCH');
    expect(error.message).toContain(regtestKey(40).address);
    expect(await windows.payOutBatch(supervisor, heldWindow)).toEqual(before);
    expect(await feeBooks(heldWindow)).toEqual(fees);
    const audit = (await listAuditEvents(s.db.orm, { entityId: heldWindow }, { limit: 100 })).items;
    expect(
      audit
        .filter((e) => e.action.startsWith('settlement_pay_out.adopt'))
        .map((e) => [e.action, e.actor, e.after]),
    ).toEqual([
      [
        'settlement_pay_out.adoptRefused',
        supervisor.actorId,
        expect.objectContaining({
          code: 'MINED_TRANSACTION_MISMATCH',
          minedTxid: conflictTxid,
          alert: 'supervisor',
        }),
      ],
    ]);
    expect(await holdAlerts(heldWindow)).toContainEqual([
      'MINED_TRANSACTION_MISMATCH',
      heldWindow,
      'high',
    ]);
    // Only the supervisor adopts; a transaction not held for a mined one has nothing to adopt.
    expect((await refusal(windows.adoptMinedPayOut(s.maker, heldWindow))).code).toBe('FORBIDDEN');
    expect((await refusal(windows.adoptMinedPayOut(supervisor, fifth.id))).code).toBe(
      'PAY_OUT_NOT_HELD_FOR_MINED',
    );
    await s.db.orm.execute(
      sql`update clearing_pay_out_transactions set status = ${String(saved!.status)}, held_code = ${(saved!.held_code as string | null) ?? null}, replaced_txids = ${String(saved!.replaced)}::jsonb, mined_txid = null where window_id = ${heldWindow}`,
    );
  });
  it('adopts the replaced transaction mined after all as the window pay-out, on the supervisor word, and follows it as any other', async () => {
    const held = (await windows.payOutBatch(supervisor, rebuiltWindow)).transaction!;
    const old = held.mined!.txid;
    const block = held.mined!.blockHash!;
    const heldEvents = async () =>
      (await events(rebuiltWindow)).filter((e) => e === 'settlement_pay_out.transactionHeld');
    // A reorganization takes the mined one's block away: still held, its block forgotten; mined
    // again, its new block is recorded (held once).
    await s.simnet.invalidateBlock(block);
    await s.watcher.syncOnce();
    expect((await windows.payOutBatch(supervisor, rebuiltWindow)).transaction).toMatchObject({
      status: 'held',
      heldCode: 'REPLACED_TRANSACTION_MINED',
      mined: { txid: old, blockHash: null, blockHeight: null },
    });
    await s.mine(1);
    const again = s.simnet.transaction(old)?.blockHash;
    expect(again).toBe(s.simnet.tip().hash);
    expect((await windows.payOutBatch(supervisor, rebuiltWindow)).transaction).toMatchObject({
      status: 'held',
      mined: { txid: old, blockHash: again, blockHeight: s.simnet.tip().height },
    });
    expect(await heldEvents()).toHaveLength(1);

    // Adopted: the window's transaction is the mined one, in its block; the held one replaced.
    const adopted = await windows.adoptMinedPayOut(supervisor, rebuiltWindow);
    expect(adopted.transaction).toMatchObject({
      txid: old,
      status: 'broadcast',
      heldCode: null,
      blockHash: again,
      replacedTxids: [held.txid],
      mined: null,
      attempts: 0,
      lastError: null,
    });
    // The pay-out names the mined transaction's output: the address of that signing, its fee share.
    const [out] = adopted.outputs;
    expect(out).toMatchObject({ platformId: B, address: addressOfB, status: 'broadcast', vout: 0 });
    expect(out!.feeSats).toBe(adopted.transaction!.feeSats);
    expect(out!.paidSats! + out!.feeSats!).toBe(out!.valueSats);
    expect(
      parseTransaction(await s.source.getRawTransaction(old)).outputs.map((o) => [
        addressFromScript(o.scriptPubKey, 'regtest'),
        o.value,
      ]),
    ).toEqual([[addressOfB, out!.paidSats]]);
    const audit = (await listAuditEvents(s.db.orm, { entityId: rebuiltWindow }, { limit: 100 }))
      .items;
    expect(
      audit
        .filter((e) => e.action === 'settlement_pay_out.adopted')
        .map((e) => [e.actor, e.before, e.after]),
    ).toEqual([
      [
        supervisor.actorId,
        expect.objectContaining({
          status: 'held',
          code: 'REPLACED_TRANSACTION_MINED',
          txid: held.txid,
        }),
        expect.objectContaining({ txid: old, replacedTxid: held.txid, blockHash: again }),
      ],
    ]);
    // The books: the replaced one's fee entry reversed, the mined one's posted (each reversal
    // once): only the fee of the transaction on the chain is shown, every account at zero.
    expect(await feeBooks(rebuiltWindow)).toEqual({
      shown: adopted.transaction!.feeSats,
      entries: [
        { entry: `pay-out-fee:${rebuiltWindow}`, reversed: 1 },
        { entry: `pay-out-fee:${rebuiltWindow}:${held.txid}`, reversed: 1 },
        { entry: `pay-out-fee:${rebuiltWindow}:${old}`, reversed: 0 },
      ],
    });
    await booksAtZero(rebuiltWindow);
    // Adopted once: nothing is held any more.
    expect((await refusal(windows.adoptMinedPayOut(supervisor, rebuiltWindow))).code).toBe(
      'PAY_OUT_NOT_HELD_FOR_MINED',
    );
    // Confirmed at the scheme's depth as usual.
    await s.mine(1);
    const confirmed = await windows.payOutBatch(supervisor, rebuiltWindow);
    expect(confirmed.transaction).toMatchObject({
      txid: old,
      status: 'confirmed',
      blockHash: again,
    });
    expect(confirmed.outputs.map((o) => o.status)).toEqual(['confirmed']);

    // A reorganization takes it away: out of every block, followed as any other (back in the
    // node's mempool, then into its next block).
    await s.simnet.invalidateBlock(again!);
    await s.watcher.syncOnce();
    expect((await windows.payOutBatch(supervisor, rebuiltWindow)).transaction).toMatchObject({
      txid: old,
      status: 'broadcast',
      blockHash: null,
    });
    await windows.runDue();
    await s.mine(1);
    expect((await windows.payOutBatch(supervisor, rebuiltWindow)).transaction).toMatchObject({
      txid: old,
      status: 'confirmed',
      blockHash: s.simnet.tip().hash,
    });
    expect(await heldEvents()).toHaveLength(1);
    expect(await feeBooks(rebuiltWindow)).toMatchObject({ shown: adopted.transaction!.feeSats });
    await booksAtZero(rebuiltWindow);
  });
  it('pays the other receivers while one is held, keeps its share with the clearing, and pays it in its own transaction once its licence is active again', async () => {
    // A fourth platform, D, licensed, with an approved settlement address.
    const D = (
      await s.registry.registerParticipant(supervisor, {
        kind: 'platform',
        legalName: 'Pereira Custodia SAS',
        country: 'CO',
      })
    ).id;
    const licence = await s.registry.grantLicence(supervisor, {
      participantId: D,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin between platforms',
      validFrom: new Date(s.clock.now().getTime() - 86_400_000).toISOString(),
      validTo: new Date(s.clock.now().getTime() + 365 * 86_400_000).toISOString(),
    });
    await registerAddress(
      caller('platform', D, 'key_officer_of_d', D),
      caller('platform', D, 'key_checker_of_d', D),
      37,
    );
    const addressOfD = regtestKey(37).address;
    // A owes B, C and D: three receivers of one window.
    s.clock.set('2026-07-02T09:10:00Z');
    for (const [to, amount, id] of [
      [B, 3n * M, 'deal_31'],
      [C, 2n * M, 'deal_32'],
      [D, M, 'deal_33'],
    ] as const)
      await record({ source: 'deal', sourceId: id, from: A, to, asset: 'BTC', amount });
    const open = (await windows.listWindows(supervisor)).items.find((w) => w.status === 'open')!;
    await windows.closeWindow(supervisor, open.id);
    const due = (await payInsOf(open.id)).find((p) => p.platformId === A && p.asset === 'BTC')!;
    await s.payFromMiner(due.address!, 6n * M);
    await s.mine(1);
    expect((await windows.getWindow(supervisor, open.id)).status).toBe('settled');

    // D's licence is suspended: B and C are paid, D's share stays with the clearing.
    await s.registry.changeLicenceStatus(supervisor, licence.id, 'suspended', 'inspection');
    // (The fourth window still waits on its dust: the job's run names it held too.)
    const partial = await windows.runDue();
    expect(partial).toMatchObject({ signed: [open.id], broadcast: [open.id] });
    expect(partial.held).toContain(open.id);
    const first = await windows.payOutBatch(supervisor, open.id);
    const out = (batch: typeof first, platform: string) =>
      batch.outputs.find((o) => o.platformId === platform)!;
    expect(out(first, D)).toMatchObject({ status: 'held', heldCode: 'LICENCE_NOT_ACTIVE' });
    expect(out(first, D).address).toBeNull();
    expect(first.transaction).toMatchObject({
      seq: 0,
      status: 'broadcast',
      kept: { vout: 2, sats: M },
    });
    const onChain = parseTransaction(await s.source.getRawTransaction(first.transaction!.txid));
    // B and C at their current settlement addresses, less their fee shares; D's whole amount
    // kept at the clearing's change output, the last.
    expect(
      new Map(
        onChain.outputs
          .slice(0, 2)
          .map((o) => [addressFromScript(o.scriptPubKey, 'regtest'), o.value]),
      ),
    ).toEqual(
      new Map([
        [out(first, B).address, 3n * M - out(first, B).feeSats!],
        [out(first, C).address, 2n * M - out(first, C).feeSats!],
      ]),
    );
    expect(onChain.outputs[2]?.value).toBe(M);
    expect([out(first, B).address, out(first, C).address]).not.toContain(
      addressFromScript(onChain.outputs[2]!.scriptPubKey, 'regtest'),
    );
    // B and C bear this transaction's whole fee (D is not in it), pro rata.
    expect(out(first, B).feeSats! + out(first, C).feeSats!).toBe(first.transaction!.feeSats);
    expect(await holdAlerts(open.id)).toEqual([['LICENCE_NOT_ACTIVE', D, 'high']]);
    const heldEvent = (
      await listAuditEvents(s.db.orm, { entityId: out(first, D).payOutId }, { limit: 10 })
    ).items;
    expect(heldEvent.map((e) => [e.action, (e.after as { code?: string }).code])).toEqual([
      ['settlement_pay_out.held', 'LICENCE_NOT_ACTIVE'],
    ]);
    await s.mine(1);
    const confirmed = await windows.payOutBatch(supervisor, open.id);
    expect(confirmed.transaction?.status).toBe('confirmed');
    expect([out(confirmed, B).status, out(confirmed, C).status, out(confirmed, D).status]).toEqual([
      'confirmed',
      'confirmed',
      'held',
    ]);
    await booksAtZero(open.id);
    // Still suspended: nothing more is signed, nothing more raised.
    const still = await windows.runDue();
    expect(still).toMatchObject({ signed: [] });
    expect(still.held).toContain(open.id);
    expect((await windows.payOutBatch(supervisor, open.id)).laterTransactions).toEqual([]);
    // The supervisor's ways out refuse a transaction that is neither rejected nor held for a mined
    // one, and each refusal is audited with its code.
    expect((await refusal(windows.rebuildPayOut(supervisor, open.id))).code).toBe(
      'PAY_OUT_NOT_REJECTED',
    );
    expect((await refusal(windows.adoptMinedPayOut(supervisor, open.id))).code).toBe(
      'PAY_OUT_NOT_HELD_FOR_MINED',
    );
    const refusals = (await listAuditEvents(s.db.orm, { entityId: open.id }, { limit: 100 })).items
      .filter((e) => e.action.endsWith('Refused'))
      .map((e) => [e.action, (e.after as { code?: string }).code]);
    expect(refusals.sort()).toEqual([
      ['settlement_pay_out.adoptRefused', 'PAY_OUT_NOT_HELD_FOR_MINED'],
      ['settlement_pay_out.rebuildRefused', 'PAY_OUT_NOT_REJECTED'],
    ]);

    // D's licence active again: the next run pays it in a transaction of its own, spending the
    // change, checked as at signing; D bears that one's fee.
    await s.registry.changeLicenceStatus(supervisor, licence.id, 'active', null);
    const cleared = await windows.runDue();
    expect(cleared).toMatchObject({ signed: [open.id], broadcast: [open.id] });
    expect(cleared.held).not.toContain(open.id);
    await s.mine(1);
    const paid = await windows.payOutBatch(supervisor, open.id);
    const [later] = paid.laterTransactions;
    expect(later).toMatchObject({ seq: 1, status: 'confirmed', kept: null });
    expect(out(paid, D)).toMatchObject({
      status: 'confirmed',
      heldCode: null,
      address: addressOfD,
      vout: 0,
      feeSats: later!.feeSats,
      paidSats: M - later!.feeSats,
    });
    const laterOnChain = parseTransaction(await s.source.getRawTransaction(later!.txid));
    expect(laterOnChain.inputs.map((i) => [i.prevTxid, i.prevVout])).toEqual([
      [first.transaction!.txid, 2],
    ]);
    expect(
      laterOnChain.outputs.map((o) => [addressFromScript(o.scriptPubKey, 'regtest'), o.value]),
    ).toEqual([[addressOfD, M - later!.feeSats]]);
    // The books balance, each fee charged to the receivers who bore it.
    await booksAtZero(open.id);
    // The hold's case is closed with a note that the hold cleared (D's case held nothing else).
    const closed = await s.compliance.cases.alerts(supervisor, {
      rule: PAY_OUT_HELD_RULE,
      partyId: D,
      state: 'closed',
    });
    expect(closed.items).toHaveLength(1);
    const theCase = await s.compliance.cases.get(supervisor, closed.items[0]!.caseId);
    expect(theCase).toMatchObject({ state: 'closed', outcome: 'confirmed' });
    expect(theCase.notes.at(-1)?.text).toMatch(/hold cleared/);
    expect(await events(theCase.id)).toContain('case.closed');
    expect((await verifyAuditChain(s.db.orm)).ok).toBe(true);
  });
});
