/**
 * A batch of the policy gate's decisions, made in memory once the batch's facts are read: each
 * request's reasons (the checks, the party's standing screening hits, monitoring over its
 * windows and its exposure), its decision, monitoring and Travel Rule rows, and the batch's
 * writes as one statement. The gate (gate.ts) reads and orchestrates; record.ts writes.
 */
import type { SQL } from 'drizzle-orm';
import { newId, type Caller, type Clock, type Random } from '../../kernel';
import type { Database, Orm } from '../../db';
import {
  evaluateMonitoring,
  type MonitoringConfig,
  type MonitoringResult,
} from '../monitoring/engine';
import type { MonitoredTransfer, MonitoringFacts } from '../monitoring/rules';
import { completeWindow, windowKey, type WindowFacts } from '../monitoring/windows';
import type { LoadedLists } from '../screening/service';
import { CHECKS, worst, type Checked } from './checks';
import { nearestListedAddress } from './exposure';
import {
  decisionWrites,
  type BatchRead,
  type DecisionWrite,
  type ExposureEntry,
  type StoredTransfer,
  type TransferWrite,
  type TravelRuleWrite,
} from './store';
import type { CommitWork, GateOutcome, GateReason, PolicyDecision, TransferFacts } from './types';

/** A decision asked for. */
export interface Request {
  caller: Caller;
  facts: TransferFacts;
  /** What the caller creates with the decision, in the batch's transaction (`decideAndCreate`). */
  work?: CommitWork<unknown>;
}

/**
 * Where a batch is decided: in the caller's transaction, or (group commit) statement by
 * statement, the batch's rows and audit events written — and committed — by one statement, and
 * anything needing several statements in a transaction of its own.
 */
export type Place = { tx: Orm } | { db: Database };
export const ormOf = (place: Place): Orm => ('tx' in place ? place.tx : place.db.orm);
/** Runs `fn` in the caller's transaction, or in a new one. */
export const inTransaction = <T>(place: Place, fn: (tx: Orm) => Promise<T>): Promise<T> =>
  'tx' in place ? fn(place.tx) : place.db.transaction(fn);

/** A request decided, its rows to write. */
export interface Decided {
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
export type Prepared =
  | { done: false; decided: Decided[]; writes: SQL; transfers: StoredTransfer[] }
  | { done: true; decisions: PolicyDecision[] };

/** What deciding the requests of a batch needs: read, checked and screened once for the batch. */
export interface BatchFacts {
  readonly orm: Orm;
  readonly clock: Clock;
  readonly random: Random;
  readonly lists: LoadedLists;
  readonly monitoring: MonitoringConfig;
  readonly requests: readonly Request[];
  /** Per request: its transfer as monitoring sees it, its graph nodes, its checks, its facts. */
  readonly transfers: readonly MonitoredTransfer[];
  readonly nodes: readonly string[][];
  readonly checks: readonly Checked[];
  readonly factsRecords: readonly unknown[];
  readonly read: BatchRead;
  /** The exposure table's entries when the table is current for these lists; else null (searched). */
  readonly exposure: readonly ExposureEntry[] | null;
  /**
   * The batch's transfers not stored yet, and the rows they replace, by transfer id: added to
   * the windows of the later requests of the same company (each decided request joins it).
   */
  readonly unstored: Map<string, StoredTransfer>;
}

/** The reasons without the name matches cleared for the party (`${party}|${source}|${entry}|${hash}`). */
function withoutCleared(checked: Checked, cleared: ReadonlySet<string>): GateReason[] {
  return checked.reasons.filter((_, i) => {
    const key = checked.clearable.get(i);
    return key === undefined || !cleared.has(key);
  });
}

type AddReason = (
  rule: string,
  outcome: GateOutcome,
  code: string,
  message: string,
  field?: string,
) => void;

/** Decides the batch's requests one after another, each counting those before it. */
export async function decideBatch(batch: BatchFacts): Promise<Prepared> {
  const decided: Decided[] = [];
  for (const k of batch.requests.keys()) decided.push(await decideRequest(batch, k));
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

/** Decides request `k` of the batch: its reasons, its outcome and the rows to write. */
async function decideRequest(batch: BatchFacts, k: number): Promise<Decided> {
  const request = batch.requests[k] as Request;
  const { facts } = request;
  const current = batch.transfers[k] as MonitoredTransfer;
  const checked = batch.checks[k] as Checked;
  const reasons = withoutCleared(checked, batch.read.cleared);
  const { ruleVersions } = checked;
  const add: AddReason = (rule, outcome, code, message, field) =>
    reasons.push({ code, rule, message, outcome, ...(field ? { field } : {}) });
  addHeldReasons(batch.read, facts, add);
  const result = evaluateMonitoring(batch.monitoring, await monitoringFacts(batch, k));
  ruleVersions.push(...result.ruleVersions);
  addMonitoringReasons(batch.monitoring, result, add);

  const outcome = worst(reasons);
  const now = batch.clock.now();
  const decisionId = newId('decision', now, batch.random);
  const decision: PolicyDecision = {
    decisionId,
    transferId: facts.transferId,
    outcome,
    reasons,
    listSnapshotIds: batch.lists.snapshotIds,
    ruleVersions,
    monitoringScore: result.score,
  };
  const rows = decisionRows(batch, k, decision, now);
  batch.unstored.set(current.transferId, { ...current, outcome });
  return { request, decision, monitoring: result, ...rows };
}

/**
 * A party with a screening hit not resolved away (from onboarding or a list import) is held: an
 * open hit until its platform reviews it, a confirmed one until the supervisor releases it;
 * ownership of 50 % or more by listed persons blocks as if listed (OFAC).
 */
function addHeldReasons(read: BatchRead, facts: TransferFacts, add: AddReason): void {
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
}

/** What monitoring looks at for request `k`: its windows (the batch's earlier transfers in) and its exposure. */
async function monitoringFacts(batch: BatchFacts, k: number): Promise<MonitoringFacts> {
  const { facts } = batch.requests[k] as Request;
  const current = batch.transfers[k] as MonitoredTransfer;
  const { monitoring, unstored } = batch;
  const maxHops = monitoring.exposureHops;
  const earlier = [...unstored.values()].filter(
    (t) => t.companyId === current.companyId && t.transferId !== current.transferId,
  );
  const windows = new Map<string, WindowFacts>();
  for (const [j, spec] of monitoring.windows.entries()) {
    const stored = batch.read.windows[k]?.[j];
    if (!stored) throw new Error(`no stored window ${j} for request ${k}`);
    windows.set(windowKey(spec), completeWindow(spec, current, stored, earlier));
  }
  return {
    transfer: current,
    counterpartyCountry: facts.counterparty.country,
    countryRiskLevel: facts.counterparty.countryRiskLevel,
    contract: facts.contract,
    windows,
    exposure:
      maxHops <= 0
        ? null
        : await nearestListedAddress(batch.orm, current, batch.nodes[k] ?? [], {
            lists: batch.lists,
            maxHops,
            entries: batch.exposure,
            previous: unstored.get(current.transferId) ?? null,
          }),
  };
}

/** Monitoring's hits as reasons, and its score when it reaches review or block. */
function addMonitoringReasons(
  monitoring: MonitoringConfig,
  result: MonitoringResult,
  add: AddReason,
): void {
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
}

/** Request `k`'s decision row, its monitoring row and, between two platforms, its Travel Rule message. */
function decisionRows(
  batch: BatchFacts,
  k: number,
  decision: PolicyDecision,
  now: Date,
): Pick<Decided, 'row' | 'transferRow' | 'travelRule'> {
  const { facts } = batch.requests[k] as Request;
  const checked = batch.checks[k] as Checked;
  const { decisionId, outcome } = decision;
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
    reasons: decision.reasons,
    listSnapshotIds: decision.listSnapshotIds,
    ruleVersions: decision.ruleVersions,
    monitoringScore: decision.monitoringScore,
    facts: batch.factsRecords[k],
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
  // Between two platforms of the scheme the IVMS101 data travels through Tradeclear: on a
  // payout to an address another platform hosts, or on the domestic market's delivery from the
  // miner's platform to the importer's (sent with the delivery, not with the match before it).
  const leg = facts.domestic;
  const route = leg
    ? leg.destinationAddress && leg.counterpartyPlatform.id !== leg.companyPlatform.id
      ? { from: leg.counterpartyPlatform.id, to: leg.companyPlatform.id }
      : null
    : facts.counterpartyAddress.schemePlatformId && facts.direction === 'outbound'
      ? { from: facts.platform.id, to: facts.counterpartyAddress.schemePlatformId }
      : null;
  const travelRule =
    checked.payload && checked.travelRuleValid && route && outcome !== 'block'
      ? {
          id: newId('travelRule', now, batch.random),
          transferId: facts.transferId,
          decisionId,
          fromPlatformId: route.from,
          toPlatformId: route.to,
          payload: checked.payload,
          createdAt: now,
        }
      : null;
  return { row, transferRow, travelRule };
}
