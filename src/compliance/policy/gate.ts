/**
 * The policy gate: one function every inbound and outbound transfer passes. It returns allow,
 * review or block with every reason, and stores the decision with its inputs (and an audit
 * event) in the caller's transaction. There is no option to skip a check: a sanctions hit always
 * blocks, whatever monitoring or an officer would say.
 *
 * Here the gate reads a batch's facts and orchestrates; the checks are rule objects
 * (checks.ts), a batch's decisions are made in memory by batch.ts and recorded by record.ts.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { AuditLog } from '../../audit';
import { AppError, seesEverything, type Caller, type Clock, type Random } from '../../kernel';
import { takeInLockOrder, type Database, type Orm } from '../../db';
import type { MonitoringConfig } from '../monitoring/engine';
import type { NameMatch } from '../screening/name-index';
import type { LoadedLists, ScreeningService } from '../screening/service';
import { REVIEW_THRESHOLD } from '../screening/thresholds';
import { complianceTransfers, decisions as decisionRows } from '../schema';
import { runChecks } from './checks';
import { checkFactsShape, factsRecord, monitoredTransfer } from './facts';
import { GroupCommit } from './group-commit';
import {
  decideBatch,
  inTransaction,
  ormOf,
  type BatchFacts,
  type Place,
  type Prepared,
  type Request,
} from './batch';
import { recordBatch } from './record';
import {
  readBatch,
  readExposure,
  rebuildExposure,
  transferNodes,
  type BatchRead,
  type ExposureEntry,
  type StoredTransfer,
} from './store';
import type {
  CommitWork,
  InputIssues,
  PolicyDecision,
  PolicyGatePort,
  TransferFacts,
} from './types';

export interface GateConfig {
  /** Travel Rule threshold (FATF R.16): data is required at or above it; 0 means always. */
  travelRuleThreshold: { minor: bigint; currency: string };
  monitoring: MonitoringConfig;
}

export interface PolicyGateDeps {
  /**
   * For decisions committed by the gate itself (`decideCommitted`), and the reads that join the
   * caller's unit of work (`resolution`).
   */
  db: Database;
  clock: Clock;
  random: Random;
  screening: ScreeningService;
  config: GateConfig;
  /** The most decisions committed in one transaction (default 64). */
  maxBatch?: number;
}

/**
 * The block reasons a caller mends by changing the request or the registry: a transfer that has
 * any of them is refused before it is created (`inputIssues`).
 */
export const INPUT_REASON_CODES: ReadonlySet<string> = new Set([
  'TRAVEL_RULE_MISSING',
  'TRAVEL_RULE_INVALID',
  'KYC_NOT_VERIFIED',
  'ADDRESS_OWNERSHIP_UNPROVEN',
  'AMOUNT_EXCEEDS_OPEN',
]);

/** Distinct (name, type) screenings remembered per loaded list set before the memo is reset. */
const NAME_MEMO_LIMIT = 20_000;

/** A request committed: its decision, and what its work created (`decideAndCreate`). */
interface Committed {
  decision: PolicyDecision;
  created: unknown;
}

/** Thrown by a batch with work that must be decided one request at a time: so each is, alone. */
class OneAtATime extends Error {}

/** The batch before, still committing: its prepared rows, and whether it committed. */
type Before = { prepared: Prepared; committed: Promise<boolean> };

/** A batch's facts as read and checked, before exposure and the batch's own transfers. */
type ReadBatch = Pick<
  BatchFacts,
  'lists' | 'monitoring' | 'transfers' | 'nodes' | 'checks' | 'factsRecords'
> & { read: BatchRead; pending: readonly StoredTransfer[] };

export class PolicyGate implements PolicyGatePort {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #random: Random;
  readonly #screening: ScreeningService;
  readonly #config: GateConfig;
  readonly #committer: GroupCommit<Request, Prepared, Committed>;
  /**
   * Name screening is a pure function of the loaded lists, and the same party names come back
   * transfer after transfer: the results are memoized per loaded list set (a new snapshot loads a
   * new set, so a stale result can never be used).
   */
  readonly #nameMemo = new WeakMap<LoadedLists, Map<string, NameMatch[]>>();

  /**
   * The Travel Rule threshold the gate applies (FATF R.16): forms read it to show the data as
   * required before sending; the gate decides with it all the same.
   */
  get travelRuleThreshold(): { readonly minor: bigint; readonly currency: string } {
    return this.#config.travelRuleThreshold;
  }

  constructor(deps: PolicyGateDeps) {
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#screening = deps.screening;
    this.#config = deps.config;
    const db = deps.db;
    this.#db = db;
    this.#audit = new AuditLog(deps);
    this.#committer = new GroupCommit<Request, Prepared, Committed>(
      {
        prepare: (requests, before) => this.#prepare({ db }, requests, before),
        commit: (prepared) => this.#commitBatch(db, prepared),
      },
      deps.maxBatch ?? 64,
    );
  }

  readonly #observers = new Set<(decision: PolicyDecision) => void>();

  get config(): GateConfig {
    return this.#config;
  }

  /**
   * Decides inside the caller's unit of work (`db.transaction` or `db.unit`): the decision, its
   * monitoring row and its audit events commit (or roll back) with whatever else the caller
   * writes there. Refused outside a transaction: a decision committed on its own could outlive
   * the transfer it decides (use `decideCommitted` there).
   */
  async decide(caller: Caller, facts: TransferFacts): Promise<PolicyDecision> {
    this.#admit(caller, facts);
    const tx = this.#db.currentUnit('PolicyGate.decide');
    const prepared = await this.#prepare({ tx }, [{ caller, facts }], null);
    const [decided] = await this.#commit({ tx }, prepared);
    if (!decided) throw new Error('the gate decided nothing');
    return decided;
  }

  /**
   * What the caller can mend before a transfer is created, found without deciding or writing
   * anything: the block reasons of `INPUT_REASON_CODES` (Travel Rule data missing or invalid, a
   * party not verified, an address whose ownership is not proven, an amount above the contract's
   * open amount). The reasons depend on those checks only, never on screening: a transfer that
   * also matches a list is refused for its input alike, so a refusal tells the caller nothing
   * about a list (no screening oracle). What else would stop it (a list match, a refused
   * jurisdiction) is answered apart, in `stoppedBy`, for the record of the attempt the caller's
   * service keeps (never shown to the one refused). The lists are read in the caller's unit of
   * work when there is one.
   */
  async inputIssues(caller: Caller, facts: TransferFacts): Promise<InputIssues> {
    this.#admit(caller, facts);
    const lists = await this.#screening.lists();
    const threshold = this.#config.travelRuleThreshold;
    const { reasons } = runChecks({
      facts,
      lists,
      travelRuleThreshold: threshold,
      screenName: (name, type) => this.#screenName(lists, name, type),
    });
    const mendable = reasons.filter((r) => r.outcome === 'block' && INPUT_REASON_CODES.has(r.code));
    const stoppedBy = reasons
      .filter((r) => r.outcome !== 'allow' && !INPUT_REASON_CODES.has(r.code))
      .map((r) => r.code);
    return { reasons: mendable, travelRuleThreshold: threshold, stoppedBy };
  }

  /**
   * How a decision stands for the transfer it was made on: allow or block as decided, or, for
   * one sent to review, the officer's resolution (null while it waits). Read in the caller's
   * unit of work when there is one (the payout or invoice it resolves is locked there).
   */
  async resolution(decisionId: string): Promise<'allow' | 'block' | null> {
    const [row] = await this.#db
      .current()
      .select({ outcome: decisionRows.outcome, reviewOutcome: decisionRows.reviewOutcome })
      .from(decisionRows)
      .where(eq(decisionRows.id, decisionId));
    if (!row) return null;
    if (row.outcome !== 'review') return row.outcome === 'allow' ? 'allow' : 'block';
    return row.reviewOutcome === 'allow' ? 'allow' : row.reviewOutcome === 'block' ? 'block' : null;
  }

  /** Marks a decided transfer void in the caller's unit of work; refused outside one. */
  async voidTransfer(caller: Caller, transferId: string, reason: string): Promise<boolean> {
    const tx = this.#db.currentUnit('PolicyGate.voidTransfer');
    const now = this.#clock.now();
    const [voided] = await tx
      .update(complianceTransfers)
      .set({ voidedAt: now, voidReason: reason.slice(0, 500) })
      .where(
        and(eq(complianceTransfers.transferId, transferId), isNull(complianceTransfers.voidedAt)),
      )
      .returning({
        decisionId: complianceTransfers.decisionId,
        outcome: complianceTransfers.outcome,
      });
    if (!voided) return false;
    await this.#audit.record(caller, {
      action: 'compliance_transfer.voided',
      entityType: 'compliance_transfer',
      entityId: transferId,
      after: { decisionId: voided.decisionId, outcome: voided.outcome, reason },
    });
    return true;
  }

  /**
   * Decides in a transaction of the gate's own, shared with the other decisions asked for
   * meanwhile (group commit: one transaction, one audit append and one commit for the batch),
   * and answers once that transaction has committed: a decision is never reported before it and
   * its audit event are durable. Decisions of a batch are made one after another, each seeing
   * those before it (monitoring counts them). Not to be called from inside a transaction (on the
   * embedded database it would wait for itself): use `decide` there.
   */
  async decideCommitted(caller: Caller, facts: TransferFacts): Promise<PolicyDecision> {
    this.#admit(caller, facts);
    return (await this.#committer.submit({ caller, facts })).decision;
  }

  /**
   * `decideCommitted` with the caller's `work` in the batch's transaction: the row the decision
   * is about is created in the same committed unit as the decision, its audit event and the
   * batch's others (see `CommitWork`). A request whose work fails fails alone: the batch is run
   * again one request at a time. Not from inside a transaction, as `decideCommitted`.
   */
  async decideAndCreate<T>(
    caller: Caller,
    facts: TransferFacts,
    work: CommitWork<T>,
  ): Promise<{ decision: PolicyDecision; created: T }> {
    this.#admit(caller, facts);
    if (this.#db.inTransaction()) {
      throw new Error('PolicyGate.decideAndCreate must not be called inside a transaction');
    }
    const committed = await this.#committer.submit({ caller, facts, work });
    // The value this request's own `after` returned.
    return { decision: committed.decision, created: committed.created as T };
  }

  /** Refuses, before anything is read or queued, facts that are malformed or not the caller's. */
  #admit(caller: Caller, facts: TransferFacts): void {
    checkFactsShape(facts);
    if (
      !seesEverything(caller) &&
      !(caller.role === 'platform' && caller.participantId === facts.platform.id) &&
      !(caller.role === 'company' && caller.participantId === facts.company.id)
    ) {
      throw new AppError('NOT_FOUND', `transfer ${facts.transferId} is not visible to the caller`);
    }
    if (caller.role === 'auditor') throw new AppError('FORBIDDEN', 'the auditor reads only');
  }

  /**
   * Decides the requests in order: one read for the batch, the checks (while the read is under
   * way) and monitoring in memory, each transfer's windows counting the batch's earlier
   * transfers and those of the batch still committing (`before`), as if written. Returns the
   * batch's writes for `#commit`. A batch that comes near a sanctioned address in the exposure
   * table, or whose exposure cannot come from the table, is instead decided and written one
   * request at a time, each reading after the one before wrote, in one transaction (once the
   * batch before has committed).
   */
  async #prepare(
    place: Place,
    requests: readonly Request[],
    before: Before | null,
    listsRefreshed = false,
  ): Promise<Prepared> {
    const orm = ormOf(place);
    const batch = await this.#read(orm, requests, before, listsRefreshed);
    const { lists, read, pending } = batch;
    // Another process loaded a list snapshot since these lists were checked: screen with it.
    const listsKey = lists.snapshotIds.join(',');
    if (listsKey !== read.activeListsKey && !listsRefreshed) {
      return this.#prepare(place, requests, before, true);
    }
    const exposure = await this.#exposure(place, batch, listsKey, before);
    // Near a listed address (or without a current table) exposure is read or searched for in the
    // database, which must then hold every transfer before: the batch before must have committed.
    const maxHops = this.#config.monitoring.exposureHops;
    const nearListed = maxHops > 0 && (!exposure.fresh || exposure.entries.length > 0);
    if (nearListed && before) await before.committed;
    // The batch's transfers not stored yet, and the rows they replace, by transfer id: added to
    // the windows of the later requests of the same company.
    const unstored = new Map<string, StoredTransfer>(read.previous);
    for (const t of pending) unstored.set(t.transferId, t);
    if (requests.length > 1) {
      const candidates = new Set([...batch.transfers, ...pending].map((t) => t.counterpartyId));
      const oneByOne =
        nearListed || [...unstored.values()].some((p) => !candidates.has(p.counterpartyId));
      // Work written one request after another would not be one unit with its decision: such a
      // batch is run one request at a time, each in its own transaction.
      if (oneByOne && requests.some((r) => r.work)) throw new OneAtATime();
      if (oneByOne) return this.#oneByOne(place, requests, before);
    }
    return decideBatch({
      ...batch,
      orm,
      clock: this.#clock,
      random: this.#random,
      requests,
      exposure: exposure.fresh ? exposure.entries : null,
      unstored,
    });
  }

  /**
   * The batch's one read (list snapshot key, clearances, held parties, windows, exposure
   * entries), and the checks that need nothing from the database, run while it answers.
   */
  async #read(
    orm: Orm,
    requests: readonly Request[],
    before: Before | null,
    listsRefreshed: boolean,
  ): Promise<ReadBatch> {
    // `orm` is the unit's transaction (or, for a batch of the group commit, the pool), which is
    // where the lists read themselves too (`db.current()`).
    const lists = await this.#screening.lists({ refresh: listsRefreshed });
    const transfers = requests.map((r) => monitoredTransfer(r.facts));
    const nodes = transfers.map((t) => transferNodes(t));
    const parties = [
      ...new Set(requests.flatMap((r) => [r.facts.company.id, r.facts.counterparty.id])),
    ];
    const monitoring = this.#config.monitoring;
    // The transfers of the batch still committing: counted in, whether written yet or not.
    const pending = before && !before.prepared.done ? before.prepared.transfers : [];
    const reading = readBatch(orm, {
      items: transfers,
      pending,
      specs: monitoring.windows,
      parties,
      nodes: [...new Set(nodes.flat())],
    });
    // (Awaited below; should the checks throw first, its failure is not left unhandled.)
    reading.catch(() => undefined);
    // The checks that need nothing from the database, while it answers.
    const checks = requests.map((r) =>
      runChecks({
        facts: r.facts,
        lists,
        travelRuleThreshold: this.#config.travelRuleThreshold,
        screenName: (name, type) => this.#screenName(lists, name, type),
      }),
    );
    const factsRecords = requests.map((r) => factsRecord(r.facts));
    const read = await reading;
    return { lists, monitoring, transfers, nodes, checks, factsRecords, read, pending };
  }

  /**
   * Exposure comes from the table when it was built for the lists this process screens with
   * (rebuilt here when the active lists changed); otherwise (`fresh` false) it is searched for
   * in full.
   */
  async #exposure(
    place: Place,
    batch: ReadBatch,
    listsKey: string,
    before: Before | null,
  ): Promise<{ entries: ExposureEntry[]; fresh: boolean }> {
    const { read, lists } = batch;
    const maxHops = this.#config.monitoring.exposureHops;
    const fresh =
      read.exposureState !== null &&
      read.exposureState.listsKey === listsKey &&
      read.exposureState.maxHops >= maxHops;
    if (maxHops > 0 && !fresh && listsKey === read.activeListsKey) {
      if (before) await before.committed;
      await inTransaction(place, (tx) =>
        rebuildExposure(
          tx,
          listsKey,
          maxHops,
          (address) => lists.addresses.screenAddress(address).length > 0,
          this.#clock.now(),
        ),
      );
      const entries = await readExposure(ormOf(place), [...new Set(batch.nodes.flat())]);
      return { entries, fresh: true };
    }
    return { entries: read.exposure, fresh };
  }

  /**
   * The batch decided and written one request at a time, each reading after the one before
   * wrote: all in one transaction, so that the batch still commits whole or not at all.
   */
  async #oneByOne(
    place: Place,
    requests: readonly Request[],
    before: Before | null,
  ): Promise<Prepared> {
    if (before) await before.committed;
    const decisions = await inTransaction(place, async (tx) => {
      const decided: PolicyDecision[] = [];
      for (const request of requests) {
        const one = await this.#prepare({ tx }, [request], null);
        decided.push(...(await this.#commit({ tx }, one)));
      }
      return decided;
    });
    return { done: true, decisions };
  }

  /**
   * Commits a batch of the group commit: its decisions alone in one statement, or, when its
   * requests bring work, in one transaction with it: every lock first, each request's `before`,
   * the decisions and their audit events, each request's `after`.
   */
  async #commitBatch(db: Database, prepared: Prepared): Promise<Committed[]> {
    if (prepared.done || !prepared.decided.some((d) => d.request.work)) {
      const decisions = await this.#commit({ db }, prepared);
      return decisions.map((decision) => ({ decision, created: undefined }));
    }
    const { decided } = prepared;
    return db.transaction(async (tx) => {
      await takeInLockOrder(decided.flatMap((d) => d.request.work?.locks ?? []));
      for (const d of decided) await d.request.work?.before(d.decision);
      await this.#commit({ tx }, prepared);
      const committed: Committed[] = [];
      for (const { decision, request } of decided) {
        committed.push({ decision, created: await request.work?.after(decision) });
      }
      return committed;
    });
  }

  /**
   * Writes a prepared batch (record.ts) and tells the observers of its decisions; a batch
   * decided one request at a time was written, and observed, already.
   */
  async #commit(place: Place, prepared: Prepared): Promise<PolicyDecision[]> {
    if (prepared.done) return prepared.decisions;
    const decisions = await recordBatch(place, prepared, {
      clock: this.#clock,
      random: this.#random,
    });
    for (const observe of this.#observers) for (const decision of decisions) observe(decision);
    return decisions;
  }

  /**
   * Calls `observe` with every decision the gate writes (for metrics). Inside a caller's
   * transaction the decision is observed when written, before that transaction commits.
   */
  onDecision(observe: (decision: PolicyDecision) => void): () => void {
    this.#observers.add(observe);
    return () => this.#observers.delete(observe);
  }

  #screenName(lists: LoadedLists, name: string, type: 'person' | 'organization'): NameMatch[] {
    let memo = this.#nameMemo.get(lists);
    if (!memo || memo.size >= NAME_MEMO_LIMIT) {
      memo = new Map();
      this.#nameMemo.set(lists, memo);
    }
    const key = `${type}|${name}`;
    let found = memo.get(key);
    if (!found) {
      found = lists.names.screenName(name, { type, limit: 3, minScore: REVIEW_THRESHOLD });
      memo.set(key, found);
    }
    return found;
  }
}
