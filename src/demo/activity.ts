import { runBatchWhenFunded } from './batch';
import { lastRequestIdWith } from '../audit';
import type { Simnet } from '../chain';
import { everyItem, type Database, type Page, type PageRequest } from '../db';
import {
  AppError,
  formatBtc,
  formatRate,
  SeededRandom,
  systemCaller,
  type Caller,
  type Clock,
} from '../kernel';
import type { FixedRateSource, LedgerService, RateService } from '../ledger';
import type { ParticipantKind, RegistryService } from '../registry';
import type { ContractView, TradeService } from '../trade';
import { counterpartyRole, EXPORT_GOODS, IMPORT_GOODS } from './cast';
import { isSeeded } from './seed';
import { demoTravelRule } from './travel-rule';
import { BuyerWallet } from './wallet';

/**
 * The demo's trickle of activity while the server runs: every few seconds one thing that real
 * participants do, through the same services and with the same callers as the HTTP API (a
 * company's user, a platform's officers, the supervisor), so every transfer passes the policy
 * gate and every change is audited like any other:
 *
 * - invoice: a company invoices a foreign buyer against an active export contract, and the buyer
 *   pays it on simnet (it settles once the platform's confirmations are mined);
 * - payout: a company asks to pay a supplier against an active import contract, above the
 *   platform's quorum threshold, and two officers other than the maker approve it (a company
 *   invoices instead while none holds twice the amount);
 * - batch: a platform officer runs the platform's batch of approved payouts (signed, broadcast;
 *   a company invoices instead while no approved payout waits);
 * - contract: a company registers a new contract and submits it, the platform approves and
 *   activates it (the supervisor approves too when it is above the scheme's threshold);
 * - structuring: a company issues three invoices just under 10,000 USD, a pattern monitoring
 *   flags (the gate sends the third to review and raises an alert).
 *
 * Deterministic per seed: step n draws from a generator seeded by (seed, n), and the cast is
 * read from the database in id order. Resumable: each action's callers carry the request id
 * `demo-activity:<step>`, which the audit log keeps, so a restart continues after the last step
 * found there. Each action is one service call or a sequence of them, each its own transaction,
 * so stopping between two leaves every record whole (at worst an unpaid invoice that expires or
 * a draft contract). An action that fails is logged and the next goes on; repeated failures back
 * off (ticks are skipped, doubling up to MAX_SKIPPED_TICKS).
 */

export const ACTIVITY_KINDS = ['invoice', 'payout', 'batch', 'contract', 'structuring'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** How often each action is drawn, in percent. */
export const ACTIVITY_WEIGHTS: Readonly<Record<ActivityKind, number>> = {
  invoice: 62,
  payout: 23,
  batch: 10,
  contract: 3,
  structuring: 2,
};

/** The longest pause after repeated failures, in ticks (about four minutes at 8 s a tick). */
export const MAX_SKIPPED_TICKS = 31;

/** The request id (and audit trail mark) of the actions of step `step`. */
export const ACTIVITY_REQUEST_PREFIX = 'demo-activity:';

export interface ActivityRecord {
  readonly step: number;
  readonly kind: ActivityKind;
  readonly ok: boolean;
  /**
   * What came of it: `paid`, `review`, `blocked` (the gate's outcome for a transfer),
   * `approved`, `broadcast`, `activated`, `flagged`; the error code when it failed.
   */
  readonly outcome: string;
  /** The log line. */
  readonly message: string;
  /** What the action created, in order (invoices, payouts, a batch, a contract). */
  readonly ids: readonly string[];
}

/** Pino's shape (the server passes its logger); one line per action. */
export interface ActivityLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ActivityPorts {
  readonly db: Database;
  readonly clock: Clock;
  readonly simnet: Simnet;
  /** The manual rate desk trade prices with on simnet; the activity moves its USD rate. */
  readonly rateDesk: FixedRateSource;
  readonly services: {
    readonly registry: RegistryService;
    readonly trade: TradeService;
    readonly ledger: LedgerService;
    readonly rates: RateService;
  };
  readonly logger: ActivityLogger;
}

/** The stream of step `step`: a splitmix-style mix of the seed and the step number. */
function stepRandom(seed: number, step: number): SeededRandom {
  let x = Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step >>> 0, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d);
  x = Math.imul(x ^ (x >>> 12), 0x297a2d39);
  return new SeededRandom((x ^ (x >>> 15)) >>> 0);
}

function drawKind(random: SeededRandom): ActivityKind {
  let roll = random.int(0, 99);
  for (const kind of ACTIVITY_KINDS) {
    roll -= ACTIVITY_WEIGHTS[kind];
    if (roll < 0) return kind;
  }
  return 'invoice';
}

/** The action step `step` draws for `seed` (what `tick` does unless told otherwise). */
export function plannedKind(seed: number, step: number): ActivityKind {
  return drawKind(stepRandom(seed, step));
}

/**
 * An ordinary invoice, in USD: 2,000–8,500 or 10,500–24,000 in steps of 250. The band just under
 * 10,000 is left to the structuring pattern, so that structuring alerts come from it and not
 * from chance (three ordinary invoices there within 72 hours would look the same).
 */
function ordinaryInvoiceUsd(random: SeededRandom): number {
  return random.next() < 0.5 ? 2_000 + 250 * random.int(0, 26) : 10_500 + 250 * random.int(0, 54);
}

interface PlatformCast {
  id: string;
  name: string;
  licenceActive: boolean;
  officers: { maker: Caller; a: Caller; b: Caller };
}

interface CompanyCast {
  id: string;
  name: string;
  platform: PlatformCast;
  user: Caller;
}

interface PartyCast {
  id: string;
  /** The platform that registered it: only that platform's companies contract with it. */
  platformId: string | null;
  name: string;
  role: ReturnType<typeof counterpartyRole>;
  /** The first registered address (payouts go there), or null. */
  address: string | null;
}

interface ContractCast {
  id: string;
  direction: 'export' | 'import';
  company: CompanyCast;
  party: PartyCast;
  /** In the contract's unit (USD cents for the fiat export contracts, sats for fixed-BTC). */
  openAmount: bigint;
  unit: string;
}

interface Cast {
  platforms: PlatformCast[];
  companies: CompanyCast[];
  parties: PartyCast[];
  contracts: ContractCast[];
}

/** An action that could not start (nothing to act on); logged like a failed service call. */
class NothingToDo extends Error {}

const READER = systemCaller('demo.activity');
const DAY_MS = 86_400_000;
/** Below these open amounts a contract is left alone (USD cents; sats). */
const MIN_OPEN_USD_CENTS = 10_000_000n;
const MIN_OPEN_SATS = 100_000_000n;
/** A company keeps at most this many active contracts per direction with distinct parties. */
const MAX_PARTIES_PER_DIRECTION = 4;
/** The cast is re-read this often (and after every failure), to see what people did by hand. */
const REFRESH_EVERY_STEPS = 100;

export class DemoActivity {
  readonly #ports: ActivityPorts;
  readonly #seed: number;
  readonly #buyers: BuyerWallet;
  #cast: Cast;
  #step: number;
  #rate: number;
  #failures = 0;
  #skip = 0;
  #stale = false;
  #lastRefresh: number;
  #running = false;

  private constructor(
    ports: ActivityPorts,
    seed: number,
    cast: Cast,
    step: number,
    rate: number,
    buyers: BuyerWallet,
  ) {
    this.#ports = ports;
    this.#seed = seed;
    this.#cast = cast;
    this.#step = step;
    this.#rate = rate;
    this.#buyers = buyers;
    this.#lastRefresh = step;
  }

  /**
   * Opens the activity over a seeded demo database: reads the cast, the last step found in the
   * audit log and the last USD rate stored, and loads the simulated buyers' coins from simnet.
   */
  static async open(ports: ActivityPorts, options: { seed: number }): Promise<DemoActivity> {
    if (!(await isSeeded(ports.services.registry)))
      throw new AppError('CONFLICT', 'the demo activity needs a seeded demo scheme');
    const last = await lastRequestIdWith(ports.db.orm, ACTIVITY_REQUEST_PREFIX);
    const step = last ? Number(last.split(':')[1]) + 1 : 1;
    const [lastRate] = (await ports.services.rates.list('USD', { limit: 1 })).items;
    const rate = lastRate ? Math.round(Number(formatRate(lastRate.rate))) : 60_000;
    ports.rateDesk.set('USD', `${rate}.00`);
    const buyers = new BuyerWallet(ports.simnet);
    buyers.load();
    return new DemoActivity(ports, options.seed, await readCast(ports), step, rate, buyers);
  }

  /** The step the next action will carry. */
  get nextStep(): number {
    return this.#step;
  }

  /**
   * One action (or none while backing off after failures). Never throws: a failure is logged at
   * warn and returned as a record with `ok: false`. `kind` forces the action (tests).
   */
  async tick(options: { kind?: ActivityKind } = {}): Promise<ActivityRecord | null> {
    if (this.#running) return null;
    if (this.#skip > 0) {
      this.#skip--;
      return null;
    }
    this.#running = true;
    const step = this.#step++;
    const random = stepRandom(this.#seed, step);
    const drawn = drawKind(random);
    const kind = options.kind ?? drawn;
    try {
      // The desk's rate walks a little every step (from the last stored rate after a restart).
      this.#rate = Math.max(20_000, this.#rate + random.int(-150, 150));
      this.#ports.rateDesk.set('USD', `${this.#rate}.00`);
      if (this.#stale || step - this.#lastRefresh >= REFRESH_EVERY_STEPS) {
        this.#cast = await readCast(this.#ports);
        this.#stale = false;
        this.#lastRefresh = step;
      }
      const done = await this.#perform(kind, random, step);
      const record: ActivityRecord = { step, kind: done.kind ?? kind, ok: true, ...done };
      this.#failures = 0;
      this.#ports.logger.info(
        { step, action: record.kind, outcome: record.outcome, ids: record.ids },
        record.message,
      );
      return record;
    } catch (error) {
      this.#failures++;
      this.#stale = true;
      this.#skip = Math.min(2 ** (this.#failures - 1), MAX_SKIPPED_TICKS + 1) - 1;
      const code =
        error instanceof AppError
          ? error.code
          : error instanceof NothingToDo
            ? 'NOTHING_TO_DO'
            : 'FAILED';
      const reason = error instanceof Error ? error.message : String(error);
      const message = `demo activity: ${kind} failed (${code}): ${reason}${this.#skip > 0 ? `; pausing ${this.#skip} tick(s)` : ''}`;
      try {
        this.#ports.logger.warn({ step, action: kind, outcome: code }, message);
      } catch {
        // A logger that throws must not stop the server either.
      }
      return { step, kind, ok: false, outcome: code, message, ids: [] };
    } finally {
      this.#running = false;
    }
  }

  async #perform(
    kind: ActivityKind,
    random: SeededRandom,
    step: number,
  ): Promise<Omit<ActivityRecord, 'step' | 'kind' | 'ok'> & { kind?: ActivityKind }> {
    switch (kind) {
      case 'invoice':
        return this.#invoice(random, step);
      case 'payout':
        return this.#payout(random, step);
      case 'batch':
        return this.#batch(random, step);
      case 'contract':
        return this.#contract(random, step);
      case 'structuring':
        return this.#structuring(random, step);
    }
  }

  // ---------------------------------------------------------------- actions

  /** Mostly ordinary trade; one time in twenty any active contract (the gate may stop it). */
  #pickContract(
    random: SeededRandom,
    direction: 'export' | 'import',
    usable: (c: ContractCast) => boolean = () => true,
  ): ContractCast {
    const active = this.#cast.contracts.filter(
      (c) =>
        c.direction === direction &&
        c.openAmount >= (c.unit === 'BTC' ? MIN_OPEN_SATS : MIN_OPEN_USD_CENTS) &&
        usable(c),
    );
    const ordinary = active.filter((c) => isOrdinary(c, direction));
    const pool = random.next() < 0.95 && ordinary.length > 0 ? ordinary : active;
    if (pool.length === 0)
      throw new NothingToDo(`no active ${direction} contract with an open amount to act on`);
    return random.pick(pool);
  }

  async #issueAndPay(
    contract: ContractCast,
    usd: number,
    step: number,
  ): Promise<{
    id: string;
    gate: 'allow' | 'review' | 'block';
    txid: string | null;
    sats: bigint;
  }> {
    const { trade, registry } = this.#ports.services;
    const company = contract.company;
    let invoice;
    try {
      invoice = await trade.invoices.create(withRequest(company.user, step), {
        contractId: contract.id,
        amount: `${usd}.00`,
        description: `${contract.party.name}: goods shipped`,
        travelRule: await demoTravelRule(registry, {
          direction: 'inbound',
          platformId: company.platform.id,
          companyId: company.id,
          counterpartyId: contract.party.id,
        }),
      });
    } catch (error) {
      const blocked = blockedId(error, 'invoiceId');
      if (blocked) return { id: blocked, gate: 'block', txid: null, sats: 0n };
      throw error;
    }
    // The foreign buyer pays from its own wallet abroad: an ordinary signed transaction.
    const txid = await this.#buyers.pay(invoice.address, invoice.amountSats);
    return { id: invoice.id, gate: invoice.gateOutcome, txid, sats: invoice.amountSats };
  }

  async #invoice(random: SeededRandom, step: number) {
    const contract = this.#pickContract(random, 'export', (c) => c.unit === 'USD');
    const usd = ordinaryInvoiceUsd(random);
    const paid = await this.#issueAndPay(contract, usd, step);
    const who = `${contract.company.name} invoiced ${contract.party.name} ${usd.toLocaleString('en-US')} USD (${paid.id})`;
    const message =
      paid.gate === 'block'
        ? `demo activity: ${who}; the policy gate blocked it`
        : `demo activity: ${who}; the buyer paid ${formatBtc(paid.sats)} BTC in ${paid.txid ?? ''}${paid.gate === 'review' ? ' (held for review by the gate)' : ''}`;
    const outcome = { allow: 'paid', review: 'review', block: 'blocked' }[paid.gate];
    return { outcome, message, ids: [paid.id] };
  }

  async #payout(random: SeededRandom, step: number) {
    const { trade, ledger, registry } = this.#ports.services;
    // A company with funds to pay a supplier, trying a few in the order the step's draw gives.
    const candidates = this.#cast.contracts.filter(
      (c) =>
        c.direction === 'import' &&
        c.unit === 'BTC' &&
        c.party.address !== null &&
        c.openAmount >= MIN_OPEN_SATS,
    );
    const ordinary = candidates.filter((c) => isOrdinary(c, 'import'));
    const pool = random.next() < 0.95 && ordinary.length > 0 ? ordinary : candidates;
    for (const contract of shuffle(random, pool).slice(0, 12)) {
      const company = contract.company;
      const platform = company.platform;
      const settings = await trade.settings(platform.officers.maker, platform.id);
      const funds = (await ledger.balances(READER, { participantId: company.id }))
        .filter((b) => b.purpose === 'clientFunds')
        .reduce((sum, b) => sum + b.balanceSats, 0n);
      // Above the quorum threshold, so that two officers approve (maker-checker), and no more
      // than half of what the company holds.
      const threshold = settings.quorumThresholdSats;
      const amount = threshold + (threshold * BigInt(random.int(1, 50))) / 100n;
      if (amount * 2n > funds || amount > contract.openAmount) continue;
      let payout;
      try {
        payout = await trade.payouts.create(withRequest(company.user, step), {
          contractId: contract.id,
          amount: amount.toString(),
          address: contract.party.address!,
          memo: `${contract.party.name}: supplier invoice`,
          travelRule: await demoTravelRule(registry, {
            direction: 'outbound',
            platformId: platform.id,
            companyId: company.id,
            counterpartyId: contract.party.id,
          }),
        });
      } catch (error) {
        const blocked = blockedId(error, 'payoutId');
        if (!blocked) throw error;
        return {
          outcome: 'blocked',
          message: `demo activity: ${company.name} asked to pay ${contract.party.name} ${formatBtc(amount)} BTC (${blocked}); the policy gate blocked it`,
          ids: [blocked],
        };
      }
      const asked = `${company.name} asked to pay ${contract.party.name} ${formatBtc(amount)} BTC (${payout.id})`;
      if (payout.status === 'awaitingReview') {
        return {
          outcome: 'review',
          message: `demo activity: ${asked}; the gate sent it to a compliance officer`,
          ids: [payout.id],
        };
      }
      let view = payout;
      const approvers: string[] = [];
      for (const officer of [platform.officers.a, platform.officers.b]) {
        if (view.status !== 'awaitingApproval') break;
        try {
          view = await trade.payouts.approve(withRequest(officer, step), payout.id);
        } catch (error) {
          // The gate decides again at approval: a payout that no longer passes is held.
          if (!blockedId(error, 'payoutId')) throw error;
          return {
            outcome: 'blocked',
            message: `demo activity: ${asked}; held for compliance review at approval`,
            ids: [payout.id],
          };
        }
        approvers.push(officer.actorId);
      }
      return {
        outcome: 'approved',
        message: `demo activity: ${asked}; approved by ${approvers.join(' and ')}`,
        ids: [payout.id],
      };
    }
    // No company has the funds to pay a supplier yet: one invoices a buyer instead.
    return { ...(await this.#invoice(random, step)), kind: 'invoice' as const };
  }

  async #batch(random: SeededRandom, step: number) {
    const { trade } = this.#ports.services;
    for (const platform of shuffle(
      random,
      this.#cast.platforms.filter((p) => p.licenceActive),
    )) {
      let unbatched = false;
      for await (const p of everyItem((page) =>
        trade.payouts.list(platform.officers.maker, { status: 'awaitingPayment' }, page),
      )) {
        if (p.batchId === null) unbatched = true;
      }
      if (!unbatched) continue;
      const batch = await runBatchWhenFunded(
        trade,
        withRequest(platform.officers.maker, step),
        platform.id,
      );
      if (!batch) continue;
      return {
        outcome: batch.txid ? 'broadcast' : batch.status,
        message: `demo activity: ${platform.name} ran its payout batch ${batch.id}: ${batch.payoutIds.length} payout(s), fee ${batch.feeSats} sats${batch.txid ? `, broadcast as ${batch.txid}` : `, ${batch.status}`}`,
        ids: [batch.id],
      };
    }
    // Nothing approved and waiting anywhere: a company invoices instead.
    return { ...(await this.#invoice(random, step)), kind: 'invoice' as const };
  }

  async #contract(random: SeededRandom, step: number) {
    const { trade } = this.#ports.services;
    const companies = this.#cast.companies.filter((c) => c.platform.licenceActive);
    if (companies.length === 0) throw new NothingToDo('no company on a licensed platform');
    const company = random.pick(companies);
    const direction = random.next() < 0.6 ? 'export' : 'import';
    const role = direction === 'export' ? 'buyer' : 'supplier';
    const current = [
      ...new Map(
        this.#cast.contracts
          .filter((c) => c.company.id === company.id && c.direction === direction)
          .map((c) => [c.party.id, c.party]),
      ).values(),
    ].filter((p) => p.role === role);
    // A follow-on contract with a party it already trades with, once it has a few.
    const parties =
      current.length >= MAX_PARTIES_PER_DIRECTION
        ? current
        : this.#cast.parties.filter(
            (p) =>
              p.role === role &&
              p.platformId === company.platform.id &&
              (direction === 'export' || p.address !== null),
          );
    if (parties.length === 0) throw new NothingToDo(`no ordinary ${role} to contract with`);
    const party = random.pick(parties);
    const due = new Date(this.#ports.clock.now().getTime() + 180 * DAY_MS)
      .toISOString()
      .slice(0, 10);
    const user = withRequest(company.user, step);
    let created: ContractView;
    let size: string;
    if (direction === 'export') {
      const goods = random.pick(EXPORT_GOODS);
      const usd = `${(500_000 + 50_000 * random.int(0, 30)).toString()}.00`;
      size = `${Number(usd).toLocaleString('en-US')} USD`;
      created = await trade.contracts.create(user, {
        counterpartyId: party.id,
        direction,
        goodsDescription: goods.goods,
        hsCode: goods.hs,
        incoterm: 'FOB',
        currency: 'USD',
        amount: usd,
        pricingMode: 'fiat',
        schedule: [{ dueDate: due, amount: usd }],
      });
    } else {
      const goods = random.pick(IMPORT_GOODS);
      const btc = BigInt(random.int(5, 20)) * 100_000_000n;
      size = `${formatBtc(btc)} BTC`;
      created = await trade.contracts.create(user, {
        counterpartyId: party.id,
        direction,
        goodsDescription: goods.goods,
        hsCode: goods.hs,
        incoterm: 'CIF',
        currency: 'USD',
        amount: `${((btc / 100_000_000n) * BigInt(this.#rate)).toString()}.00`,
        pricingMode: 'fixedBtc',
        btcAmountSats: btc.toString(),
        schedule: [{ dueDate: due, amount: btc.toString() }],
      });
    }
    await trade.contracts.transition(user, created.id, 'submit');
    const officer = withRequest(company.platform.officers.a, step);
    let view = await trade.contracts.transition(officer, created.id, 'approve');
    if (view.supervisorApproval === 'pending') {
      await trade.contracts.transition(
        systemCaller('demo:supervisor', requestIdOf(step)),
        created.id,
        'approve',
      );
    }
    view = await trade.contracts.transition(officer, created.id, 'activate');
    this.#cast.contracts.push({
      id: view.id,
      direction,
      company,
      party,
      openAmount: view.openAmount,
      unit: view.unit,
    });
    return {
      outcome: 'activated',
      message: `demo activity: ${company.name} registered an ${direction} contract with ${party.name} (${size}, ${created.id}); ${company.platform.name} approved and activated it`,
      ids: [created.id],
    };
  }

  async #structuring(random: SeededRandom, step: number) {
    const contract = this.#pickContract(
      random,
      'export',
      (c) => c.unit === 'USD' && isOrdinary(c, 'export'),
    );
    const results = [];
    for (let i = 0; i < 3; i++)
      results.push(await this.#issueAndPay(contract, 9_400 + 25 * random.int(0, 22), step));
    const flagged = results.some((r) => r.gate !== 'allow');
    return {
      outcome: flagged ? 'flagged' : 'paid',
      message: `demo activity: ${contract.company.name} issued three invoices just under 10,000 USD to ${contract.party.name} (structuring pattern): gate ${results.map((r) => `${r.gate} (${r.id})`).join(', ')}`,
      ids: results.map((r) => r.id),
    };
  }
}

function requestIdOf(step: number): string {
  return `${ACTIVITY_REQUEST_PREFIX}${step}`;
}

function withRequest(caller: Caller, step: number): Caller {
  return { ...caller, requestId: requestIdOf(step) };
}

/** The id of the invoice or payout the gate blocked (kept invalid or cancelled), if that is the error. */
function blockedId(error: unknown, key: 'invoiceId' | 'payoutId'): string | null {
  if (!(error instanceof AppError) || error.code !== 'TRANSFER_BLOCKED') return null;
  const id = error.details?.[key];
  return typeof id === 'string' ? id : null;
}

function isOrdinary(contract: ContractCast, direction: 'export' | 'import'): boolean {
  return (
    contract.company.platform.licenceActive &&
    contract.party.role === (direction === 'export' ? 'buyer' : 'supplier')
  );
}

function shuffle<T>(random: SeededRandom, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Every item of a paged list, in id order (the lists are newest first). */
async function everyOf<T extends { id: string }>(
  list: (page: PageRequest) => Promise<Page<T>>,
): Promise<T[]> {
  const all: T[] = [];
  for await (const item of everyItem(list)) all.push(item);
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The scheme as the activity acts on it, read through the services, in id order. */
async function readCast(ports: ActivityPorts): Promise<Cast> {
  const { registry, trade } = ports.services;
  const licences = await everyOf((page) => registry.listLicences(READER, {}, page));
  const participantsOf = (kind: ParticipantKind) =>
    everyOf((page) => registry.listParticipants(READER, { kind }, page));
  const platforms: PlatformCast[] = (await participantsOf('platform')).map((p) => {
    const officer = (who: string): Caller => ({
      role: 'platform',
      participantId: p.id,
      platformId: p.id,
      actorId: `demo:${who}@${p.id}`,
      personId: `demo:${who}@${p.id}`,
      requestId: null,
    });
    return {
      id: p.id,
      name: p.legalName,
      licenceActive: licences.some(
        (l) => l.participantId === p.id && l.kind === 'vasp' && l.status === 'active',
      ),
      officers: { maker: officer('maker'), a: officer('officer-a'), b: officer('officer-b') },
    };
  });
  const byPlatform = new Map(platforms.map((p) => [p.id, p]));
  const companies: CompanyCast[] = [];
  for (const c of await participantsOf('company')) {
    const platform = c.platformId ? byPlatform.get(c.platformId) : undefined;
    if (!platform) continue;
    companies.push({
      id: c.id,
      name: c.legalName,
      platform,
      user: {
        role: 'company',
        participantId: c.id,
        platformId: platform.id,
        actorId: `demo:user@${c.id}`,
        personId: `demo:user@${c.id}`,
        requestId: null,
      },
    });
  }
  const parties: PartyCast[] = [];
  for (const p of await participantsOf('counterparty')) {
    const [address] = await everyOf((page) =>
      registry.listCounterpartyAddresses(READER, p.id, page),
    );
    parties.push({
      id: p.id,
      platformId: p.platformId,
      name: p.legalName,
      role: counterpartyRole(p.legalName),
      address: address?.address ?? null,
    });
  }
  const byCompany = new Map(companies.map((c) => [c.id, c]));
  const byParty = new Map(parties.map((p) => [p.id, p]));
  const contracts: ContractCast[] = [];
  for await (const c of everyItem((page) =>
    trade.contracts.list(READER, { status: 'active' }, page),
  )) {
    const company = byCompany.get(c.companyId);
    const party = byParty.get(c.counterpartyId);
    if (!company || !party) continue;
    contracts.push({
      id: c.id,
      direction: c.direction,
      company,
      party,
      openAmount: c.openAmount,
      unit: c.unit,
    });
  }
  contracts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { platforms, companies, parties, contracts };
}
