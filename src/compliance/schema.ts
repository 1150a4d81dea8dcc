import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * One imported version of a sanctions list. `listKey` names the list slot a new import replaces
 * (the source, and for address lists the asset: `address-list:XBT`); exactly one snapshot per
 * slot is active. Re-importing identical bytes finds the existing snapshot (unique content hash).
 */
export const listSnapshots = pgTable(
  'compliance_list_snapshots',
  {
    id: text('id').primaryKey(),
    listKey: text('list_key').notNull(),
    source: text('source').notNull(),
    publicationDate: text('publication_date'),
    contentHash: text('content_hash').notNull(),
    counts: jsonb('counts').notNull(),
    importedAt: at('imported_at').notNull(),
    importedBy: text('imported_by').notNull(),
    active: boolean('active').notNull(),
  },
  (t) => [
    unique('compliance_list_snapshots_key_hash').on(t.listKey, t.contentHash),
    uniqueIndex('compliance_list_snapshots_one_active')
      .on(t.listKey)
      .where(sql`${t.active}`),
    // GET /v1/lists, newest import first: all, the active ones, or one list slot's.
    index('compliance_list_snapshots_page_idx').on(t.importedAt, t.id),
    index('compliance_list_snapshots_active_page_idx').on(t.active, t.importedAt, t.id),
    index('compliance_list_snapshots_key_page_idx').on(t.listKey, t.importedAt, t.id),
  ],
);

/** The entries of a snapshot, each with the SHA-256 of its canonical JSON (clearances key on it). */
export const listEntries = pgTable(
  'compliance_list_entries',
  {
    snapshotId: text('snapshot_id')
      .notNull()
      .references(() => listSnapshots.id),
    listEntryId: text('list_entry_id').notNull(),
    contentHash: text('content_hash').notNull(),
    entry: jsonb('entry').notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.listEntryId] })],
);

/** A reviewer's false-positive clearance of one (party, list entry) pair, valid while the entry is unchanged. */
export const clearances = pgTable(
  'compliance_clearances',
  {
    id: text('id').primaryKey(),
    partyId: text('party_id').notNull(),
    source: text('source').notNull(),
    listEntryId: text('list_entry_id').notNull(),
    entryHash: text('entry_hash').notNull(),
    reason: text('reason').notNull(),
    clearedBy: text('cleared_by').notNull(),
    clearedAt: at('cleared_at').notNull(),
  },
  (t) => [
    unique('compliance_clearances_pair').on(t.partyId, t.source, t.listEntryId, t.entryHash),
    check('compliance_clearances_reason', sql`length(trim(${t.reason})) >= 10`),
  ],
);

/** Standing screening hits of registered parties and addresses, kept current by re-screening. */
export interface HitReview {
  at: string;
  actor: string;
  role: string;
  decision: 'false_positive' | 'confirmed' | 'blocked' | 'released';
  reason: string;
}

export const partyHits = pgTable(
  'compliance_party_hits',
  {
    id: text('id').primaryKey(),
    partyId: text('party_id').notNull(),
    /** `name` or `address:<address>`. */
    subject: text('subject').notNull(),
    source: text('source').notNull(),
    listEntryId: text('list_entry_id').notNull(),
    entryHash: text('entry_hash').notNull(),
    snapshotId: text('snapshot_id').notNull(),
    score: doublePrecision('score').notNull(),
    matchedName: text('matched_name'),
    status: text('status').notNull(),
    listedAt: at('listed_at').notNull(),
    delistedAt: at('delisted_at'),
    delistedReason: text('delisted_reason'),
    /** The platform the party belongs to (its officers review the hit first); null otherwise. */
    platformId: text('platform_id'),
    /**
     * The review: `open` until an officer of the party's platform calls it a `false_positive` or
     * `confirmed`; a confirmed hit then goes to the supervisor, who keeps the party `blocked` or
     * `released` it. Open, confirmed and blocked hits block KYC verification and transfers.
     */
    review: text('review').notNull().default('open'),
    /** Every review step, oldest first: { at, actor, role, decision, reason }. */
    reviews: jsonb('reviews').$type<HitReview[]>().notNull().default([]),
  },
  (t) => [
    check(
      'compliance_party_hits_review',
      sql`${t.review} in ('open', 'false_positive', 'confirmed', 'blocked', 'released')`,
    ),
    // The hits list, newest first: all, a platform's, a party's (keyset on listed_at, id).
    index('compliance_party_hits_platform_page_idx').on(t.platformId, t.listedAt, t.id),
    index('compliance_party_hits_page_idx').on(t.listedAt, t.id),
    index('compliance_party_hits_party_page_idx').on(t.partyId, t.listedAt, t.id),
    unique('compliance_party_hits_pair').on(t.partyId, t.subject, t.source, t.listEntryId),
    check('compliance_party_hits_status', sql`${t.status} in ('listed', 'delisted')`),
    check(
      'compliance_party_hits_delisting_reason',
      sql`(${t.status} = 'delisted') = (${t.delistedReason} is not null)`,
    ),
  ],
);

/** Every gate decision with its inputs (facts), reasons, list snapshots and rule versions. */
export const decisions = pgTable(
  'compliance_decisions',
  {
    id: text('id').primaryKey(),
    transferId: text('transfer_id').notNull(),
    platformId: text('platform_id').notNull(),
    companyId: text('company_id').notNull(),
    counterpartyId: text('counterparty_id').notNull(),
    direction: text('direction').notNull(),
    outcome: text('outcome').notNull(),
    /** For a review: null while waiting, then the officer's allow or block. */
    reviewOutcome: text('review_outcome'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: at('reviewed_at'),
    reviewNote: text('review_note'),
    reasons: jsonb('reasons').notNull(),
    listSnapshotIds: jsonb('list_snapshot_ids').notNull(),
    ruleVersions: jsonb('rule_versions').notNull(),
    monitoringScore: doublePrecision('monitoring_score').notNull(),
    facts: jsonb('facts').notNull(),
    decidedAt: at('decided_at').notNull(),
  },
  (t) => [
    index('compliance_decisions_transfer_idx').on(t.transferId),
    // Keyset pages, newest first, for each kind of reader (platform, company, supervisor).
    index('compliance_decisions_platform_idx').on(t.platformId, t.decidedAt, t.id),
    index('compliance_decisions_company_page_idx').on(t.companyId, t.decidedAt, t.id),
    index('compliance_decisions_page_idx').on(t.decidedAt, t.id),
    check('compliance_decisions_outcome', sql`${t.outcome} in ('allow', 'review', 'block')`),
    check(
      'compliance_decisions_review',
      sql`${t.reviewOutcome} is null or (${t.outcome} = 'review' and ${t.reviewOutcome} in ('allow', 'block') and ${t.reviewedBy} is not null and ${t.reviewNote} is not null)`,
    ),
  ],
);

/** The monitoring facts: one row per decided transfer (the latest decision), written by the gate. */
export const complianceTransfers = pgTable(
  'compliance_transfers',
  {
    transferId: text('transfer_id').primaryKey(),
    decisionId: text('decision_id').notNull(),
    platformId: text('platform_id').notNull(),
    companyId: text('company_id').notNull(),
    counterpartyId: text('counterparty_id').notNull(),
    counterpartyAddress: text('counterparty_address').notNull(),
    direction: text('direction').notNull(),
    amountSats: bigint('amount_sats', { mode: 'bigint' }).notNull(),
    fiatMinor: bigint('fiat_minor', { mode: 'bigint' }).notNull(),
    fiatCurrency: text('fiat_currency').notNull(),
    occurredAt: at('occurred_at').notNull(),
    outcome: text('outcome').notNull(),
    /**
     * Set when the transfer never happened after all (a market match refused after its decision,
     * a deal unwound): monitoring's windows leave a void transfer out. Its decision stays.
     */
    voidedAt: at('voided_at'),
    voidReason: text('void_reason'),
  },
  (t) => [
    index('compliance_transfers_company_idx').on(t.companyId, t.occurredAt),
    index('compliance_transfers_counterparty_idx').on(t.counterpartyId),
    index('compliance_transfers_address_idx').on(t.counterpartyAddress),
    check('compliance_transfers_amount', sql`${t.amountSats} >= 0 and ${t.fiatMinor} >= 0`),
  ],
);

export const cases = pgTable(
  'compliance_cases',
  {
    id: text('id').primaryKey(),
    partyId: text('party_id').notNull(),
    platformId: text('platform_id'),
    state: text('state').notNull(),
    outcome: text('outcome'),
    /** The person working the case: a user id of the supervisor's staff (checked on assignment). */
    assignee: text('assignee'),
    notes: jsonb('notes').notNull(),
    openedAt: at('opened_at').notNull(),
    closedAt: at('closed_at'),
  },
  (t) => [
    // Alerts group into one open case per party.
    uniqueIndex('compliance_cases_one_open_per_party')
      .on(t.partyId)
      .where(sql`${t.state} <> 'closed'`),
    // The cases list, newest first: all, by state, by party (keyset on opened_at, id).
    index('compliance_cases_page_idx').on(t.openedAt, t.id),
    index('compliance_cases_state_page_idx').on(t.state, t.openedAt, t.id),
    index('compliance_cases_party_page_idx').on(t.partyId, t.openedAt, t.id),
    check('compliance_cases_state', sql`${t.state} in ('open', 'investigating', 'closed')`),
    check(
      'compliance_cases_outcome',
      sql`(${t.state} = 'closed') = (${t.outcome} is not null and ${t.closedAt} is not null) and (${t.outcome} is null or ${t.outcome} in ('confirmed', 'falsePositive', 'reported'))`,
    ),
  ],
);

export const alerts = pgTable(
  'compliance_alerts',
  {
    id: text('id').primaryKey(),
    partyId: text('party_id').notNull(),
    platformId: text('platform_id'),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    kind: text('kind').notNull(),
    rule: text('rule').notNull(),
    score: doublePrecision('score').notNull(),
    /**
     * low | medium | high | critical, computed by the database from kind, rule and score by the
     * rule `alertSeverity` (cases/alerts.ts) documents, so no writer can store another value.
     */
    severity: text('severity')
      .notNull()
      .generatedAlwaysAs(
        sql`case when kind = 'screening' then 'critical' when score >= 60 then 'high' when rule like 'rule.sanctioned-exposure@%' then 'high' when score >= 30 then 'medium' else 'low' end`,
      ),
    message: text('message').notNull(),
    transferId: text('transfer_id'),
    decisionId: text('decision_id'),
    /**
     * What an alert raised once is about (another module's hold, say
     * `settlement-window:<id>:pay-out:<code>`): raising it again while an alert of the same subject
     * sits in the party's open case returns that one (`raiseAlert`). Null: raised every time.
     */
    subject: text('subject'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    index('compliance_alerts_subject_idx')
      .on(t.subject)
      .where(sql`${t.subject} is not null`),
    // A case's alerts, newest first (keyset on created_at, id); also the case's alert summary.
    index('compliance_alerts_case_page_idx').on(t.caseId, t.createdAt, t.id),
    // The alerts list, newest first: all, by party, by severity (keyset on created_at, id).
    index('compliance_alerts_page_idx').on(t.createdAt, t.id),
    index('compliance_alerts_party_page_idx').on(t.partyId, t.createdAt, t.id),
    index('compliance_alerts_severity_page_idx').on(t.severity, t.createdAt, t.id),
    check('compliance_alerts_kind', sql`${t.kind} in ('monitoring', 'screening', 'clearing')`),
    check(
      'compliance_alerts_severity',
      sql`${t.severity} in ('low', 'medium', 'high', 'critical')`,
    ),
    // A sanctions screening hit is always critical (alertSeverity).
    check(
      'compliance_alerts_screening_critical',
      sql`${t.kind} <> 'screening' or ${t.severity} = 'critical'`,
    ),
  ],
);

export const caseTransfers = pgTable(
  'compliance_case_transfers',
  {
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    transferId: text('transfer_id')
      .notNull()
      .references(() => complianceTransfers.transferId),
  },
  (t) => [primaryKey({ columns: [t.caseId, t.transferId] })],
);

/** IVMS101 payloads exchanged between two platforms of the scheme through Tradeclear. */
export const travelRuleMessages = pgTable(
  'compliance_travel_rule_messages',
  {
    id: text('id').primaryKey(),
    transferId: text('transfer_id').notNull(),
    decisionId: text('decision_id').notNull(),
    fromPlatformId: text('from_platform_id').notNull(),
    toPlatformId: text('to_platform_id').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    // The inbox, newest first: a platform's, all (keyset on created_at, id).
    index('compliance_travel_rule_to_page_idx').on(t.toPlatformId, t.createdAt, t.id),
    index('compliance_travel_rule_page_idx').on(t.createdAt, t.id),
  ],
);

/**
 * Exposure to sanctioned addresses, kept up to date rather than searched for at every decision
 * (rule.sanctioned-exposure@1): for each listed address that a transfer not blocked has used,
 * every node of the scheme's transfer graph within `maxHops` of it (a node is a party, `p:<id>`,
 * or an address, `a:<address>`; one hop is one transfer not blocked joining two nodes), with its
 * distance. Built by the gate for the active list snapshots (`exposureState.listsKey`) and
 * rebuilt when they change; each new or changed transfer updates it by a trigger
 * (drizzle/*_compliance_exposure.sql).
 */
export const exposure = pgTable(
  'compliance_exposure',
  {
    /** The listed address, as the transfers wrote it. */
    address: text('address').notNull(),
    node: text('node').notNull(),
    hops: integer('hops').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.address, t.node] }),
    index('compliance_exposure_node_idx').on(t.node),
    check('compliance_exposure_hops', sql`${t.hops} >= 0`),
  ],
);

/** For which list snapshots and how many hops `compliance_exposure` was built (one row). */
export const exposureState = pgTable(
  'compliance_exposure_state',
  {
    singleton: integer('singleton').primaryKey().default(1),
    /** The active snapshot ids, sorted and comma-separated. */
    listsKey: text('lists_key').notNull(),
    maxHops: integer('max_hops').notNull(),
    builtAt: at('built_at').notNull(),
  },
  (t) => [check('compliance_exposure_state_singleton', sql`${t.singleton} = 1`)],
);
