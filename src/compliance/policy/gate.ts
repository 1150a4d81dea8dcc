/**
 * The policy gate: one function every inbound and outbound transfer passes. It returns allow,
 * review or block with every reason, and stores the decision with its inputs (and an audit
 * event) in the caller's transaction. There is no option to skip a check: a sanctions hit always
 * blocks, whatever monitoring or an officer would say.
 */
import { and, desc, eq, gte, ne, sql } from 'drizzle-orm';
import {
  AppError,
  newId,
  seesEverything,
  type Caller,
  type Clock,
  type Random,
} from '../../kernel';
import { rowsOf, type Orm } from '../../db';
import { recordAudit, type AuditEntry } from '../../audit';
import { complianceTransfers, decisions, travelRuleMessages } from '../schema';
import { raiseAlert } from '../cases/alerts';
import { evaluateMonitoring, type MonitoringConfig } from '../monitoring/engine';
import type { MonitoredTransfer, MonitoringFacts } from '../monitoring/rules';
import type { NameMatch } from '../screening/name-index';
import type { LoadedLists, ScreeningService } from '../screening/service';
import { REVIEW_THRESHOLD } from '../screening/thresholds';
import { personNames, validateIvms101 } from '../travel-rule/ivms101';
import type {
  GateOutcome,
  GateReason,
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
  clock: Clock;
  random: Random;
  screening: ScreeningService;
  config: GateConfig;
}

const CHECKS = {
  licences: 'gate.licences@1',
  kyc: 'gate.kyc@1',
  foreignTrade: 'gate.foreign-trade@1',
  jurisdiction: 'gate.jurisdiction@1',
  screening: 'gate.screening@1',
  travelRule: 'gate.travel-rule@1',
  contract: 'gate.contract@1',
  monitoring: 'gate.monitoring@1',
} as const;

const SEVERITY: Record<GateOutcome, number> = { allow: 0, review: 1, block: 2 };

function worst(reasons: readonly GateReason[]): GateOutcome {
  let outcome: GateOutcome = 'allow';
  for (const r of reasons) if (SEVERITY[r.outcome] > SEVERITY[outcome]) outcome = r.outcome;
  return outcome;
}

/** JSON-safe copy of the facts (bigints as strings, dates as ISO). */
function factsRecord(facts: TransferFacts): unknown {
  return JSON.parse(
    JSON.stringify(facts, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  ) as unknown;
}

function checkFactsShape(facts: TransferFacts): void {
  const bad = (field: string, message: string) =>
    new AppError('VALIDATION_FAILED', `facts.${field}: ${message}`, {
      issues: [{ field: `facts.${field}`, message }],
    });
  if (facts.transferId.trim() === '') throw bad('transferId', 'must not be empty');
  if (facts.amountSats <= 0n) throw bad('amountSats', `must be positive, got ${facts.amountSats}`);
  if (facts.fiatValue.minor < 0n) throw bad('fiatValue.minor', 'must not be negative');
  if (Number.isNaN(facts.occurredAt.getTime())) throw bad('occurredAt', 'must be a valid date');
}

/** Distinct (name, type) screenings remembered per loaded list set before the memo is reset. */
const NAME_MEMO_LIMIT = 20_000;

export class PolicyGate implements PolicyGatePort {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #screening: ScreeningService;
  readonly #config: GateConfig;
  /**
   * Name screening is a pure function of the loaded lists, and the same party names come back
   * transfer after transfer: the results are memoized per loaded list set (a new snapshot loads a
   * new set, so a stale result can never be used).
   */
  readonly #nameMemo = new WeakMap<LoadedLists, Map<string, NameMatch[]>>();

  constructor(deps: PolicyGateDeps) {
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#screening = deps.screening;
    this.#config = deps.config;
  }

  get config(): GateConfig {
    return this.#config;
  }

  async decide(tx: Orm, caller: Caller, facts: TransferFacts): Promise<PolicyDecision> {
    checkFactsShape(facts);
    if (
      !seesEverything(caller) &&
      !(caller.role === 'platform' && caller.participantId === facts.platform.id) &&
      !(caller.role === 'company' && caller.participantId === facts.company.id)
    ) {
      throw new AppError('NOT_FOUND', `transfer ${facts.transferId} is not visible to the caller`);
    }
    if (caller.role === 'auditor') throw new AppError('FORBIDDEN', 'the auditor reads only');

    const reasons: GateReason[] = [];
    const ruleVersions: string[] = Object.values(CHECKS);
    const add = (
      rule: string,
      outcome: GateOutcome,
      code: string,
      message: string,
      field?: string,
    ) => reasons.push({ code, rule, message, outcome, ...(field ? { field } : {}) });

    // Licences: the platform (and the company's own licence, when it has one) must be active.
    if (facts.platform.licenceStatus !== 'active') {
      add(
        CHECKS.licences,
        'block',
        'LICENCE_NOT_ACTIVE',
        `platform ${facts.platform.id} licence is ${facts.platform.licenceStatus}`,
        'platform.licenceStatus',
      );
    }
    if (facts.company.licence && facts.company.licence.status !== 'active') {
      add(
        CHECKS.licences,
        'block',
        'LICENCE_NOT_ACTIVE',
        `company ${facts.company.id} licence ${facts.company.licence.id} is ${facts.company.licence.status}`,
        'company.licence.status',
      );
    }
    // KYC/KYB of both parties.
    if (facts.company.kycStatus !== 'verified') {
      add(
        CHECKS.kyc,
        'block',
        'KYC_NOT_VERIFIED',
        `company ${facts.company.id} KYB is ${facts.company.kycStatus}`,
        'company.kycStatus',
      );
    }
    if (facts.counterparty.kycStatus !== 'verified') {
      add(
        CHECKS.kyc,
        'block',
        'KYC_NOT_VERIFIED',
        `counterparty ${facts.counterparty.id} KYC is ${facts.counterparty.kycStatus}`,
        'counterparty.kycStatus',
      );
    }
    // The scheme is for foreign trade only.
    if (
      facts.company.country === facts.schemeCountry &&
      facts.counterparty.country === facts.schemeCountry
    ) {
      add(
        CHECKS.foreignTrade,
        'block',
        'DOMESTIC_TRANSFER',
        `both parties are in ${facts.schemeCountry}: the scheme settles foreign trade only`,
        'counterparty.country',
      );
    }
    if (facts.refusedJurisdictions.includes(facts.counterparty.country)) {
      add(
        CHECKS.jurisdiction,
        'block',
        'JURISDICTION_REFUSED',
        `settlement with ${facts.counterparty.country} is refused at scheme level`,
        'counterparty.country',
      );
    }

    // Screening of names (parties and Travel Rule persons) and of the counterparty address.
    const lists = await this.#screening.lists(tx);
    const cleared = await this.#screening.clearedPairs(tx, [
      facts.company.id,
      facts.counterparty.id,
    ]);
    const subjects: Array<{
      partyId: string;
      name: string;
      type: 'person' | 'organization';
      field: string;
    }> = [
      {
        partyId: facts.company.id,
        name: facts.company.legalName,
        type: 'organization',
        field: 'company.legalName',
      },
      {
        partyId: facts.counterparty.id,
        name: facts.counterparty.legalName,
        type: facts.counterparty.kind,
        field: 'counterparty.legalName',
      },
      ...facts.counterparty.otherNames.map((name, i) => ({
        partyId: facts.counterparty.id,
        name,
        type: facts.counterparty.kind,
        field: `counterparty.otherNames.${i}`,
      })),
    ];
    let travelRuleValid = false;
    const payload = facts.travelRule;
    if (payload) {
      const validation = validateIvms101(payload, facts.occurredAt);
      travelRuleValid = validation.ok;
      if (validation.ok) {
        // The originator is ours on an outbound transfer, the counterparty's on an inbound one.
        const originatorParty =
          facts.direction === 'outbound' ? facts.company.id : facts.counterparty.id;
        const beneficiaryParty =
          facts.direction === 'outbound' ? facts.counterparty.id : facts.company.id;
        validation.payload.originator.originatorPersons.forEach((p, i) =>
          personNames(p).forEach((name) =>
            subjects.push({
              partyId: originatorParty,
              name,
              type: p.naturalPerson ? 'person' : 'organization',
              field: `travelRule.originator.originatorPersons.${i}`,
            }),
          ),
        );
        validation.payload.beneficiary.beneficiaryPersons.forEach((p, i) =>
          personNames(p).forEach((name) =>
            subjects.push({
              partyId: beneficiaryParty,
              name,
              type: p.naturalPerson ? 'person' : 'organization',
              field: `travelRule.beneficiary.beneficiaryPersons.${i}`,
            }),
          ),
        );
      } else {
        for (const issue of validation.issues) {
          add(
            CHECKS.travelRule,
            'block',
            'TRAVEL_RULE_INVALID',
            `Travel Rule data: ${issue.field}: ${issue.message}${issue.constraint === 'schema' ? '' : ` [${issue.constraint}]`}`,
            `travelRule.${issue.field}`,
          );
        }
      }
    }
    const seen = new Set<string>();
    for (const s of subjects) {
      if (s.name.trim() === '' || seen.has(`${s.partyId}|${s.type}|${s.name}`)) continue;
      seen.add(`${s.partyId}|${s.type}|${s.name}`);
      for (const m of this.#screenName(lists, s.name, s.type)) {
        const snapshotId = lists.snapshotIdByHash.get(m.contentHash) ?? '';
        const hash = lists.entryHashes.get(`${snapshotId}|${m.listEntryId}`) ?? '';
        if (cleared.has(`${s.partyId}|${m.source}|${m.listEntryId}|${hash}`)) continue;
        const listed = `${m.source} entry ${m.listEntryId} "${m.matchedAlias ?? m.primaryName}" (score ${m.score.toFixed(3)}, snapshot ${snapshotId})`;
        if (m.outcome === 'match') {
          add(
            CHECKS.screening,
            'block',
            'SANCTIONS_NAME_MATCH',
            `"${s.name}" matches ${listed}`,
            s.field,
          );
        } else {
          add(
            CHECKS.screening,
            'review',
            'SANCTIONS_NAME_POSSIBLE',
            `"${s.name}" resembles ${listed}; an officer must review or clear it`,
            s.field,
          );
        }
      }
    }
    for (const m of lists.addresses.screenAddress(facts.counterpartyAddress.address)) {
      add(
        CHECKS.screening,
        'block',
        'SANCTIONS_ADDRESS_MATCH',
        `address ${facts.counterpartyAddress.address} is listed by ${m.source} entry ${m.listEntryId}${m.primaryName ? ` (${m.primaryName})` : ''}, snapshot ${lists.snapshotIdByHash.get(m.contentHash) ?? ''}`,
        'counterpartyAddress.address',
      );
    }

    // Travel Rule: IVMS101 data at or above the threshold (a transfer in another currency than
    // the threshold's cannot be compared, so it needs the data too).
    const threshold = this.#config.travelRuleThreshold;
    const required =
      facts.fiatValue.currency !== threshold.currency || facts.fiatValue.minor >= threshold.minor;
    if (required && !payload) {
      add(
        CHECKS.travelRule,
        'block',
        'TRAVEL_RULE_MISSING',
        `IVMS101 originator and beneficiary data is required at or above ${threshold.minor} ${threshold.currency} minor units`,
        'travelRule',
      );
    }
    if (
      payload &&
      travelRuleValid &&
      facts.counterpartyAddress.ownership === 'hosted' &&
      !payload.beneficiaryVASP?.beneficiaryVASP &&
      facts.direction === 'outbound'
    ) {
      add(
        CHECKS.travelRule,
        'block',
        'TRAVEL_RULE_INVALID',
        'the counterparty address is hosted by a VASP: beneficiaryVASP is required',
        'travelRule.beneficiaryVASP',
      );
    }
    if (
      facts.direction === 'outbound' &&
      (facts.counterpartyAddress.ownership === 'selfHostedUnproven' ||
        facts.counterpartyAddress.ownership === 'unknown')
    ) {
      add(
        CHECKS.travelRule,
        'block',
        'ADDRESS_OWNERSHIP_UNPROVEN',
        `a payment to a self-hosted address needs the counterparty's BIP322 proof of ownership of ${facts.counterpartyAddress.address} (ownership: ${facts.counterpartyAddress.ownership})`,
        'counterpartyAddress.ownership',
      );
    }

    // Contract: a payment happens only against a registered contract's open amount.
    if (!facts.contract) {
      add(
        CHECKS.contract,
        'block',
        'CONTRACT_MISSING',
        'a transfer must be made against a registered trade contract',
        'contract',
      );
    } else if (facts.amountSats > facts.contract.openAmountSats + facts.contract.toleranceSats) {
      add(
        CHECKS.contract,
        facts.direction === 'outbound' ? 'block' : 'review',
        'AMOUNT_EXCEEDS_OPEN',
        `${facts.amountSats} sats exceeds contract ${facts.contract.id}'s open amount ${facts.contract.openAmountSats} sats (+${facts.contract.toleranceSats} tolerance)`,
        'amountSats',
      );
    }

    // Monitoring.
    const current: MonitoredTransfer = {
      transferId: facts.transferId,
      direction: facts.direction,
      companyId: facts.company.id,
      counterpartyId: facts.counterparty.id,
      counterpartyAddress: facts.counterpartyAddress.address,
      amountSats: facts.amountSats,
      fiatMinor: facts.fiatValue.minor,
      fiatCurrency: facts.fiatValue.currency,
      occurredAt: facts.occurredAt,
    };
    const monitoringFacts: MonitoringFacts = {
      transfer: current,
      counterpartyCountry: facts.counterparty.country,
      countryRiskLevel: facts.counterparty.countryRiskLevel,
      contract: facts.contract,
      history: await this.#history(tx, facts),
      exposure: await this.#exposure(tx, facts, lists.addresses),
    };
    const monitoring = evaluateMonitoring(this.#config.monitoring, monitoringFacts);
    ruleVersions.push(...monitoring.ruleVersions);
    const hits = monitoring.results.filter((r) => r.outcome === 'hit');
    for (const hit of hits) {
      add(
        hit.rule,
        monitoring.outcome === 'allow' ? 'allow' : monitoring.outcome,
        'MONITORING_HIT',
        `${hit.reason} (score ${hit.score})`,
      );
    }
    if (monitoring.outcome !== 'allow') {
      add(
        CHECKS.monitoring,
        monitoring.outcome,
        'MONITORING_SCORE',
        `monitoring score ${monitoring.score} ≥ ${monitoring.outcome === 'block' ? this.#config.monitoring.blockAt : this.#config.monitoring.reviewAt}`,
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
      monitoringScore: monitoring.score,
      facts: factsRecord(facts),
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
    // The decision and its monitoring row in one statement (one round trip): the decision is
    // inserted by a data-modifying CTE, the transfer row upserted by the main statement.
    const decisionRow = tx
      .$with('decision_row')
      .as(tx.insert(decisions).values(row).returning({ id: decisions.id }));
    await tx
      .with(decisionRow)
      .insert(complianceTransfers)
      .values(transferRow)
      .onConflictDoUpdate({ target: complianceTransfers.transferId, set: transferRow });
    // Between two platforms of the scheme the IVMS101 data travels through Tradeclear.
    const toPlatform = facts.counterpartyAddress.schemePlatformId;
    if (
      payload &&
      travelRuleValid &&
      toPlatform &&
      facts.direction === 'outbound' &&
      outcome !== 'block'
    ) {
      await tx.insert(travelRuleMessages).values({
        id: newId('travelRule', now, this.#random),
        transferId: facts.transferId,
        decisionId,
        fromPlatformId: facts.platform.id,
        toPlatformId: toPlatform,
        payload,
        createdAt: now,
      });
    }
    // Audit events are appended last: the audit head row lock serializes every writer until
    // commit, so it is taken after every other write of the decision.
    const audits: AuditEntry[] = [];
    if (monitoring.outcome !== 'allow') {
      for (const hit of hits) {
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
            decisionId,
          },
          audits,
        );
      }
    }
    for (const entry of audits) await recordAudit(tx, caller, this.#clock, entry);
    await recordAudit(tx, caller, this.#clock, {
      action: 'decision.made',
      entityType: 'decision',
      entityId: decisionId,
      after: {
        transferId: facts.transferId,
        outcome,
        reasons,
        listSnapshotIds: lists.snapshotIds,
        ruleVersions,
      },
    });
    return {
      decisionId,
      transferId: facts.transferId,
      outcome,
      reasons,
      listSnapshotIds: lists.snapshotIds,
      ruleVersions,
      monitoringScore: monitoring.score,
    };
  }

  async #history(tx: Orm, facts: TransferFacts): Promise<MonitoredTransfer[]> {
    const hours = this.#config.monitoring.lookbackHours;
    if (hours <= 0) return [];
    const from = new Date(facts.occurredAt.getTime() - hours * 3_600_000);
    const rows = await tx
      .select({
        transferId: complianceTransfers.transferId,
        direction: complianceTransfers.direction,
        companyId: complianceTransfers.companyId,
        counterpartyId: complianceTransfers.counterpartyId,
        counterpartyAddress: complianceTransfers.counterpartyAddress,
        amountSats: complianceTransfers.amountSats,
        fiatMinor: complianceTransfers.fiatMinor,
        fiatCurrency: complianceTransfers.fiatCurrency,
        occurredAt: complianceTransfers.occurredAt,
      })
      .from(complianceTransfers)
      .where(
        and(
          eq(complianceTransfers.companyId, facts.company.id),
          gte(complianceTransfers.occurredAt, from),
          ne(complianceTransfers.transferId, facts.transferId),
        ),
      )
      .orderBy(desc(complianceTransfers.occurredAt))
      .limit(2_000);
    return rows.map((r) => ({
      transferId: r.transferId,
      direction: r.direction === 'inbound' ? 'inbound' : 'outbound',
      companyId: r.companyId,
      counterpartyId: r.counterpartyId,
      counterpartyAddress: r.counterpartyAddress,
      amountSats: r.amountSats,
      fiatMinor: r.fiatMinor,
      fiatCurrency: r.fiatCurrency,
      occurredAt: r.occurredAt,
    }));
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

  /**
   * Breadth-first over the scheme's own transfers (not blocked ones: those moved nothing): one hop
   * is one earlier transfer sharing a party or an address with what has been reached so far,
   * starting from this transfer's company, counterparty and address. One recursive query bounded
   * by the configured hops returns every reachable address with its nearest hop; the lists (in
   * memory) then name the nearest sanctioned one.
   */
  async #exposure(
    tx: Orm,
    facts: TransferFacts,
    addresses: { screenAddress(address: string): Array<{ listEntryId: string }> },
  ): Promise<MonitoringFacts['exposure']> {
    const maxHops = this.#config.monitoring.exposureHops;
    if (maxHops <= 0) return null;
    const transferId = facts.transferId;
    // A node is a party ('p', id) or an address ('a', address); a transfer row links its
    // company, counterparty and address. UNION keeps each (node, hop) once.
    const neighbours = (column: string) => sql`
      select t.company_id, t.counterparty_id, t.counterparty_address
      from compliance_transfers t
      where t.${sql.raw(column)} = r.id and t.outcome <> 'block' and t.transfer_id <> ${transferId}`;
    const result = await tx.execute(sql`
      with recursive reach(kind, id, hop) as (
        values ('p'::text, ${facts.company.id}::text, 0),
               ('p'::text, ${facts.counterparty.id}::text, 0),
               ('a'::text, ${facts.counterpartyAddress.address}::text, 0)
        union
        select n.kind, n.id, r.hop + 1
        from reach r
        cross join lateral (
          ${neighbours('company_id')} and r.kind = 'p'
          union all
          ${neighbours('counterparty_id')} and r.kind = 'p'
          union all
          ${neighbours('counterparty_address')} and r.kind = 'a'
        ) t
        cross join lateral (
          values ('p'::text, t.company_id), ('p'::text, t.counterparty_id), ('a'::text, t.counterparty_address)
        ) n(kind, id)
        where r.hop < ${maxHops}::int
      )
      select id as address, min(hop) as hops
      from reach
      where kind = 'a'
      group by id
      having min(hop) > 0
      order by hops, id`);
    for (const row of rowsOf(result)) {
      const address = String(row.address);
      const listed = addresses.screenAddress(address)[0];
      if (listed) return { hops: Number(row.hops), address, listEntryId: listed.listEntryId };
    }
    return null;
  }
}
