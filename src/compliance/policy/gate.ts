/**
 * The policy gate: one function every inbound and outbound transfer passes. It returns allow,
 * review or block with every reason, and stores the decision with its inputs (and an audit
 * event) in the caller's transaction. There is no option to skip a check: a sanctions hit always
 * blocks, whatever monitoring or an officer would say.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import {
  AppError,
  newId,
  seesEverything,
  type Caller,
  type Clock,
  type Random,
} from '../../kernel';
import type { Database, Orm } from '../../db';
import { lockAuditHead, recordAuditBatch, type AuditEntry } from '../../audit';
import { raiseAlert } from '../cases/alerts';
import {
  evaluateMonitoring,
  type MonitoringConfig,
  type MonitoringResult,
} from '../monitoring/engine';
import type { MonitoredTransfer, MonitoringFacts } from '../monitoring/rules';
import { completeWindow, windowKey, type WindowFacts } from '../monitoring/windows';
import type { NameMatch } from '../screening/name-index';
import type { LoadedLists, ScreeningService } from '../screening/service';
import { REVIEW_THRESHOLD } from '../screening/thresholds';
import { decisions as decisionRows } from '../schema';
import { CHECKS, runChecks, worst, type Checked } from './checks';
import { checkFactsShape, factsRecord, monitoredTransfer } from './facts';
import { nearestListedAddress } from './exposure';
import { GroupCommit } from './group-commit';
import {
  decisionWrites,
  readBatch,
  readExposure,
  rebuildExposure,
  transferNodes,
  type DecisionWrite,
  type StoredTransfer,
  type TransferWrite,
  type TravelRuleWrite,
} from './store';
import type {
  GateOutcome,
  GateReason,
  PolicyDecision,
  InputIssues,
  PolicyGatePort,
  TransferFacts,
} from './types';

export interface GateConfig {
  /** Travel Rule threshold (FATF R.16): data is required at or above it; 0 means always. */
  travelRuleThreshold: { minor: bigint; currency: string };
  monitoring: MonitoringConfig;
}

export interface PolicyGateDeps {
  /** For decisions committed by the gate itself (`decideCommitted`). */
  db?: Database;
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

/** A decision asked for. */
interface Request {
  caller: Caller;
  facts: TransferFacts;
}

/**
 * Where a batch is decided: in the caller's transaction, or (group commit) statement by
 * statement, the batch's rows and audit events written — and committed — by one statement, and
 * anything needing several statements in a transaction of its own.
 */
type Place = { tx: Orm } | { db: Database };
const ormOf = (place: Place): Orm => ('tx' in place ? place.tx : place.db.orm);
/** Runs `fn` in the caller's transaction, or in a new one. */
const inTransaction = <T>(place: Place, fn: (tx: Orm) => Promise<T>): Promise<T> =>
  'tx' in place ? fn(place.tx) : place.db.transaction(fn);

/** A request decided, its rows to write. */
interface Decided {
  request: Request;
  decision: PolicyDecision;
  monitoring: MonitoringResult;
  row: DecisionWrite;
  transferRow: TransferWrite;
  travelRule: TravelRuleWrite | null;
}

/**
 * A batch decided and not written yet (with its monitoring rows, `transfers`, for the next batch
 * to count), or decided and written already (one request at a time).
 */
type Prepared =
  | { done: false; decided: Decided[]; writes: SQL; transfers: StoredTransfer[] }
  | { done: true; decisions: PolicyDecision[] };

/** The reasons without the name matches cleared for the party (`${party}|${source}|${entry}|${hash}`). */
function withoutCleared(checked: Checked, cleared: ReadonlySet<string>): GateReason[] {
  return checked.reasons.filter((_, i) => {
    const key = checked.clearable.get(i);
    return key === undefined || !cleared.has(key);
  });
}

export class PolicyGate implements PolicyGatePort {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #screening: ScreeningService;
  readonly #config: GateConfig;
  readonly #committer: GroupCommit<Request, Prepared, PolicyDecision> | null;
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
    this.#committer = db
      ? new GroupCommit<Request, Prepared, PolicyDecision>(
          {
            prepare: (requests, before) => this.#prepare({ db }, requests, before),
            commit: (prepared) => this.#commit({ db }, prepared),
          },
          deps.maxBatch ?? 64,
        )
      : null;
  }

  readonly #observers = new Set<(decision: PolicyDecision) => void>();

  get config(): GateConfig {
    return this.#config;
  }

  /**
   * Decides inside the caller's transaction: the decision, its monitoring row and its audit
   * events commit (or roll back) with whatever else the caller writes there.
   */
  async decide(tx: Orm, caller: Caller, facts: TransferFacts): Promise<PolicyDecision> {
    this.#admit(caller, facts);
    const prepared = await this.#prepare({ tx }, [{ caller, facts }], null);
    const [decided] = await this.#commit({ tx }, prepared);
    if (!decided) throw new Error('the gate decided nothing');
    return decided;
  }

  /**
   * What the caller can mend before a transfer is created, found without deciding or writing
   * anything: the block reasons of `INPUT_REASON_CODES` (Travel Rule data missing or invalid, a
   * party not verified, an address whose ownership is not proven, an amount above the contract's
   * open amount). The answer depends on those reasons only, never on screening: a transfer that
   * also matches a list is refused for its input alike, so a refusal tells the caller nothing
   * about a list (no screening oracle). Once mended, it is decided, and its decision recorded,
   * as ever.
   */
  async inputIssues(tx: Orm, caller: Caller, facts: TransferFacts): Promise<InputIssues> {
    this.#admit(caller, facts);
    const lists = await this.#screening.lists(tx);
    const threshold = this.#config.travelRuleThreshold;
    const { reasons } = runChecks({
      facts,
      lists,
      travelRuleThreshold: threshold,
      screenName: (name, type) => this.#screenName(lists, name, type),
    });
    const mendable = reasons.filter((r) => r.outcome === 'block' && INPUT_REASON_CODES.has(r.code));
    return { reasons: mendable, travelRuleThreshold: threshold };
  }

  /**
   * How a decision stands for the transfer it was made on: allow or block as decided, or, for
   * one sent to review, the officer's resolution (null while it waits). Read through `tx`.
   */
  async resolution(tx: Orm, decisionId: string): Promise<'allow' | 'block' | null> {
    const [row] = await tx
      .select({ outcome: decisionRows.outcome, reviewOutcome: decisionRows.reviewOutcome })
      .from(decisionRows)
      .where(eq(decisionRows.id, decisionId));
    if (!row) return null;
    if (row.outcome !== 'review') return row.outcome === 'allow' ? 'allow' : 'block';
    return row.reviewOutcome === 'allow' ? 'allow' : row.reviewOutcome === 'block' ? 'block' : null;
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
    if (!this.#committer) {
      throw new Error('the policy gate was built without a database: use decide(tx, …)');
    }
    this.#admit(caller, facts);
    return this.#committer.submit({ caller, facts });
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
    before: { prepared: Prepared; committed: Promise<boolean> } | null,
    listsRefreshed = false,
  ): Promise<Prepared> {
    const orm = ormOf(place);
    const lists = await this.#screening.lists(orm, { refresh: listsRefreshed });
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
    // Another process loaded a list snapshot since these lists were checked: screen with it.
    const listsKey = lists.snapshotIds.join(',');
    if (listsKey !== read.activeListsKey && !listsRefreshed) {
      return this.#prepare(place, requests, before, true);
    }

    // Exposure comes from the table when it was built for the lists this process screens with
    // (rebuilt here when the active lists changed); otherwise it is searched for in full.
    const maxHops = monitoring.exposureHops;
    let exposure = read.exposure;
    let tableFresh =
      read.exposureState !== null &&
      read.exposureState.listsKey === listsKey &&
      read.exposureState.maxHops >= maxHops;
    if (maxHops > 0 && !tableFresh && listsKey === read.activeListsKey) {
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
      exposure = await readExposure(orm, [...new Set(nodes.flat())]);
      tableFresh = true;
    }
    // Near a listed address (or without a current table) exposure is read or searched for in the
    // database, which must then hold every transfer before: the batch before must have committed.
    const nearListed = maxHops > 0 && (!tableFresh || exposure.length > 0);
    if (nearListed && before) await before.committed;
    // The batch's transfers not stored yet, and the rows they replace, by transfer id: added to
    // the windows of the later requests of the same company.
    const unstored = new Map<string, StoredTransfer>(read.previous);
    for (const t of pending) unstored.set(t.transferId, t);
    if (requests.length > 1) {
      const candidates = new Set([...transfers, ...pending].map((t) => t.counterpartyId));
      const oneByOne =
        nearListed || [...unstored.values()].some((p) => !candidates.has(p.counterpartyId));
      if (oneByOne) {
        if (before) await before.committed;
        // All in one transaction, so that the batch still commits whole or not at all.
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
    }
    const decided: Decided[] = [];
    for (const [k, request] of requests.entries()) {
      const { facts } = request;
      const current = transfers[k] as MonitoredTransfer;
      const checked = checks[k] as Checked;
      const reasons = withoutCleared(checked, read.cleared);
      const { ruleVersions } = checked;
      const add = (
        rule: string,
        outcome: GateOutcome,
        code: string,
        message: string,
        field?: string,
      ) => reasons.push({ code, rule, message, outcome, ...(field ? { field } : {}) });
      // A party with a screening hit not resolved away (from onboarding or a list import) is
      // held: an open hit until its platform reviews it, a confirmed one until the supervisor
      // releases it; ownership of 50 % or more by listed persons blocks as if listed (OFAC).
      for (const [side, party] of [
        ['company', facts.company.id],
        ['counterparty', facts.counterparty.id],
      ] as const) {
        for (const hit of read.held.get(party) ?? []) {
          add(
            CHECKS.screening,
            'block',
            hit.subject === 'ownership' ? 'SANCTIONS_OWNERSHIP_50' : 'SCREENING_HIT_UNRESOLVED',
            `${side} ${party} has screening hit ${hit.hitId} (${hit.subject === 'ownership' ? 'owned 50 % or more by listed persons' : hit.subject.replace(/:.*$/, '')}), ${hit.review}`,
            `${side}.id`,
          );
        }
      }

      const earlier = [...unstored.values()].filter(
        (t) => t.companyId === current.companyId && t.transferId !== current.transferId,
      );
      const windows = new Map<string, WindowFacts>();
      for (const [j, spec] of monitoring.windows.entries()) {
        const stored = read.windows[k]?.[j];
        if (!stored) throw new Error(`no stored window ${j} for request ${k}`);
        windows.set(windowKey(spec), completeWindow(spec, current, stored, earlier));
      }
      const monitoringFacts: MonitoringFacts = {
        transfer: current,
        counterpartyCountry: facts.counterparty.country,
        countryRiskLevel: facts.counterparty.countryRiskLevel,
        contract: facts.contract,
        windows,
        exposure:
          maxHops <= 0
            ? null
            : await nearestListedAddress(orm, current, nodes[k] ?? [], {
                lists,
                maxHops,
                entries: tableFresh ? exposure : null,
                previous: unstored.get(current.transferId) ?? null,
              }),
      };
      const result = evaluateMonitoring(monitoring, monitoringFacts);
      ruleVersions.push(...result.ruleVersions);
      const hits = result.results.filter((r) => r.outcome === 'hit');
      for (const hit of hits) {
        add(
          hit.rule,
          result.outcome === 'allow' ? 'allow' : result.outcome,
          'MONITORING_HIT',
          `${hit.reason} (score ${hit.score})`,
        );
      }
      if (result.outcome !== 'allow') {
        add(
          CHECKS.monitoring,
          result.outcome,
          'MONITORING_SCORE',
          `monitoring score ${result.score} ≥ ${result.outcome === 'block' ? monitoring.blockAt : monitoring.reviewAt}`,
        );
      }

      const outcome = worst(reasons);
      const now = this.#clock.now();
      const decisionId = newId('decision', now, this.#random);
      const row = {
        id: decisionId,
        transferId: facts.transferId,
        platformId: facts.platform.id,
        companyId: facts.company.id,
        counterpartyId: facts.counterparty.id,
        direction: facts.direction,
        outcome,
        reviewOutcome: null,
        reviewedBy: null,
        reviewedAt: null,
        reviewNote: null,
        reasons,
        listSnapshotIds: lists.snapshotIds,
        ruleVersions,
        monitoringScore: result.score,
        facts: factsRecords[k],
        decidedAt: now,
      };
      const transferRow = {
        transferId: facts.transferId,
        decisionId,
        platformId: facts.platform.id,
        companyId: facts.company.id,
        counterpartyId: facts.counterparty.id,
        counterpartyAddress: facts.counterpartyAddress.address,
        direction: facts.direction,
        amountSats: facts.amountSats,
        fiatMinor: facts.fiatValue.minor,
        fiatCurrency: facts.fiatValue.currency,
        occurredAt: facts.occurredAt,
        outcome,
      };
      // Between two platforms of the scheme the IVMS101 data travels through Tradeclear.
      const toPlatform = facts.counterpartyAddress.schemePlatformId;
      const travelRule =
        checked.payload &&
        checked.travelRuleValid &&
        toPlatform &&
        facts.direction === 'outbound' &&
        outcome !== 'block'
          ? {
              id: newId('travelRule', now, this.#random),
              transferId: facts.transferId,
              decisionId,
              fromPlatformId: facts.platform.id,
              toPlatformId: toPlatform,
              payload: checked.payload,
              createdAt: now,
            }
          : null;
      unstored.set(current.transferId, { ...current, outcome });
      decided.push({
        request,
        decision: {
          decisionId,
          transferId: facts.transferId,
          outcome,
          reasons,
          listSnapshotIds: lists.snapshotIds,
          ruleVersions,
          monitoringScore: result.score,
        },
        monitoring: result,
        row,
        transferRow,
        travelRule,
      });
    }

    // The batch's rows: its decisions, Travel Rule messages and monitoring rows (a transfer
    // decided twice in the batch keeps its last row, as if decided one after the other).
    const latest = new Map(decided.map((d) => [d.transferRow.transferId, d.transferRow]));
    const writes = decisionWrites({
      decisions: decided.map((d) => d.row),
      transfers: [...latest.values()],
      travelRules: decided.flatMap((d) => (d.travelRule ? [d.travelRule] : [])),
    });
    return {
      done: false,
      decided,
      writes,
      transfers: [...latest.values()].map((t) => ({
        ...t,
        direction: t.direction === 'inbound' ? 'inbound' : 'outbound',
      })),
    };
  }

  /**
   * Writes a prepared batch: outside a caller's transaction, one statement writes the rows and
   * appends the audit events (committing them) — or, when monitoring raises alerts, one
   * transaction.
   */
  async #commit(place: Place, prepared: Prepared): Promise<PolicyDecision[]> {
    if (prepared.done) return prepared.decisions;
    const { decided, writes } = prepared;
    const orm = ormOf(place);
    // The audit events, each decision's alert events before its own, in order. Without alerts
    // one statement writes the rows and appends the events (committing them, outside a caller's
    // transaction); monitoring alerts (into a case) are raised after the rows they point to are
    // written, in one transaction with them. Either way the rows are written while the audit
    // head lock is held (taken by the statement's audit part, whose AFTER triggers fire at its
    // end, or beforehand): the exposure table's trigger relies on writers being serialized.
    const entries = (d: (typeof decided)[number], alertEntries: AuditEntry[]) =>
      [
        ...alertEntries,
        {
          action: 'decision.made',
          entityType: 'decision',
          entityId: d.decision.decisionId,
          after: {
            transferId: d.request.facts.transferId,
            outcome: d.decision.outcome,
            reasons: d.decision.reasons,
            listSnapshotIds: d.decision.listSnapshotIds,
            ruleVersions: d.decision.ruleVersions,
          },
        },
      ].map((entry) => ({ caller: d.request.caller, entry }));
    if (!decided.some((d) => d.monitoring.outcome !== 'allow')) {
      await recordAuditBatch(
        orm,
        this.#clock,
        decided.flatMap((d) => entries(d, [])),
        writes,
      );
    } else {
      await inTransaction(place, async (tx) => {
        // Transfers are written under the audit head lock (the exposure trigger relies on it).
        await lockAuditHead(tx);
        await tx.execute(sql`with ${writes} select 1`);
        const audits: Array<{ caller: Caller; entry: AuditEntry }> = [];
        for (const d of decided) {
          const { caller, facts } = d.request;
          const alertEntries: AuditEntry[] = [];
          if (d.monitoring.outcome !== 'allow') {
            for (const hit of d.monitoring.results.filter((r) => r.outcome === 'hit')) {
              await raiseAlert(
                tx,
                caller,
                this.#clock,
                this.#random,
                {
                  partyId: facts.company.id,
                  platformId: facts.platform.id,
                  kind: 'monitoring',
                  rule: hit.rule,
                  score: hit.score,
                  message: hit.reason,
                  transferId: facts.transferId,
                  decisionId: d.decision.decisionId,
                },
                alertEntries,
              );
            }
          }
          audits.push(...entries(d, alertEntries));
        }
        await recordAuditBatch(tx, this.#clock, audits);
      });
    }
    const decisions = decided.map((d) => d.decision);
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
