/**
 * The policy gate's SQL: what a batch of decisions needs from the database, read in one
 * statement (list snapshot key, clearances, monitoring windows as SQL aggregates, the exposure
 * table), and the exposure table's upkeep. The gate decides; this module only reads and builds.
 */
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Orm } from '../../db';
import { lockAuditHead } from '../../audit';
import type { MonitoredTransfer } from '../monitoring/rules';
import { windowStart, type StoredWindow, type WindowSpec } from '../monitoring/windows';

/** A transfer as compliance_transfers holds it. */
export interface StoredTransfer extends MonitoredTransfer {
  outcome: string;
}

/** The nodes of the transfer graph a transfer joins: its parties and its address (when it has one). */
export function transferNodes(t: {
  companyId: string;
  counterpartyId: string;
  counterpartyAddress: string;
}): string[] {
  const nodes = [`p:${t.companyId}`, `p:${t.counterpartyId}`];
  if (t.counterpartyAddress !== '') nodes.push(`a:${t.counterpartyAddress}`);
  return nodes;
}

export interface BatchRead {
  /** The active list snapshots in the database, sorted and comma-separated. */
  activeListsKey: string;
  exposureState: { listsKey: string; maxHops: number } | null;
  /** `${partyId}|${source}|${listEntryId}|${entryHash}` of every clearance of the parties. */
  cleared: Set<string>;
  /**
   * The parties' standing screening hits not resolved away (open, confirmed or kept blocked):
   * partyId → [{ subject, review, hitId }]. Each holds the transfer (fail closed).
   */
  held: Map<string, { subject: string; review: string; hitId: string }[]>;
  /** The stored rows of the batch's transfer ids (a transfer decided again replaces its row). */
  previous: Map<string, StoredTransfer>;
  /** Per item, per spec (in the order given): the window over stored transfers, the batch's excluded. */
  windows: StoredWindow[][];
  /** Exposure table entries of the batch's nodes. */
  exposure: ExposureEntry[];
}

export interface ExposureEntry {
  node: string;
  address: string;
  hops: number;
}

const json = (value: unknown): SQL => sql`${JSON.stringify(value)}::jsonb`;
const text = (value: unknown): string => (typeof value === 'string' ? value : String(value));

/** One window's SQL condition on `t` (a compliance_transfers row) for item `i`. */
function windowCondition(spec: WindowSpec, index: number): SQL {
  const parts: SQL[] = [sql`t.occurred_at >= i.froms[${sql.raw(String(index + 1))}]`];
  if (spec.direction === 'same') parts.push(sql`t.direction = i.direction`);
  else if (spec.direction) parts.push(sql`t.direction = ${spec.direction}`);
  if (spec.currency) parts.push(sql`t.fiat_currency = ${spec.currency}`);
  if (spec.fiatFrom !== undefined) {
    parts.push(sql`t.fiat_minor >= ${spec.fiatFrom.toString()}::bigint`);
  }
  if (spec.fiatBelow !== undefined) {
    parts.push(sql`t.fiat_minor < ${spec.fiatBelow.toString()}::bigint`);
  }
  return sql.join(parts, sql` and `);
}

/** One window's aggregates over `x`, whose column `f<index>` says whether a row is in it. */
function windowAggregates(spec: WindowSpec, index: number): SQL {
  const f = sql.raw(`x.f${index}`);
  const distinct = spec.counterparties
    ? sql`count(distinct x.counterparty_id) filter (where ${f}),
          coalesce(jsonb_agg(distinct x.counterparty_id)
            filter (where ${f} and x.counterparty_id = any(i.candidates)), '[]'::jsonb)`
    : sql`0, '[]'::jsonb`;
  return sql`jsonb_build_array(
    count(*) filter (where ${f}),
    coalesce(sum(x.amount_sats) filter (where ${f}), 0)::text,
    coalesce(sum(x.fiat_minor) filter (where ${f}), 0)::text,
    ${distinct})`;
}

function storedTransfer(row: Record<string, unknown>): StoredTransfer {
  return {
    transferId: text(row.transferId),
    direction: row.direction === 'inbound' ? 'inbound' : 'outbound',
    companyId: text(row.companyId),
    counterpartyId: text(row.counterpartyId),
    counterpartyAddress: text(row.counterpartyAddress),
    amountSats: BigInt(text(row.amountSats)),
    fiatMinor: BigInt(text(row.fiatMinor)),
    fiatCurrency: text(row.fiatCurrency),
    occurredAt: new Date(text(row.occurredAt)),
    outcome: text(row.outcome),
  };
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

/**
 * Everything a batch of decisions reads, in one statement. `specs` are the monitoring windows;
 * each item's windows cover its company's stored transfers in [start, occurredAt], leaving out
 * every transfer id of the batch and of `pending` (the gate adds those it knows of itself).
 */
export async function readBatch(
  tx: Orm,
  input: {
    items: MonitoredTransfer[];
    /** Transfers written meanwhile by a batch before (left out of the windows: the gate adds them). */
    pending?: readonly MonitoredTransfer[];
    specs: readonly WindowSpec[];
    parties: string[];
    nodes: string[];
  },
): Promise<BatchRead> {
  const { items, specs } = input;
  const pending = input.pending ?? [];
  const candidates = [...new Set([...items, ...pending].map((t) => t.counterpartyId))];
  const itemRows = items.map((t, k) => {
    const froms = specs.map((s) => windowStart(s, t).toISOString());
    return {
      k,
      company_id: t.companyId,
      occurred_at: t.occurredAt.toISOString(),
      earliest: froms.reduce((a, b) => (a < b ? a : b), t.occurredAt.toISOString()),
      direction: t.direction,
      froms,
      candidates,
    };
  });
  const ids = items.map((t) => t.transferId);
  const excluded = [...new Set([...ids, ...pending.map((t) => t.transferId)])];
  const windows =
    specs.length === 0
      ? sql`'[]'::jsonb`
      : sql`(select coalesce(jsonb_agg(w.v order by w.k), '[]'::jsonb)
          from jsonb_to_recordset(${json(itemRows)}) as i(
            k int, company_id text, occurred_at timestamptz, earliest timestamptz,
            direction text, froms timestamptz[], candidates text[])
          cross join lateral (
            select i.k, jsonb_build_array(${sql.join(
              specs.map((s, j) => windowAggregates(s, j)),
              sql`, `,
            )}) as v
            from (
              -- Each row's membership of each window, decided once per row.
              select t.amount_sats, t.fiat_minor, t.counterparty_id, ${sql.join(
                specs.map((s, j) => sql`(${windowCondition(s, j)}) as ${sql.raw(`f${j}`)}`),
                sql`, `,
              )}
              from compliance_transfers t
              where t.company_id = i.company_id
                and t.occurred_at >= i.earliest
                and t.occurred_at <= i.occurred_at
                and t.transfer_id not in (select jsonb_array_elements_text(${json(excluded)}))
                -- A void transfer never happened (its decision stays, for the record).
                and t.voided_at is null
              -- (offset 0 keeps the planner from copying the flags into every aggregate)
              offset 0
            ) x
          ) w)`;
  const result = await tx.execute(sql`
    select
      (select coalesce(string_agg(id, ',' order by id), '')
         from compliance_list_snapshots where active) as "activeListsKey",
      (select jsonb_build_object('listsKey', lists_key, 'maxHops', max_hops)
         from compliance_exposure_state where singleton = 1) as "exposureState",
      (select coalesce(jsonb_agg(jsonb_build_array(party_id, source, list_entry_id, entry_hash)), '[]'::jsonb)
         from compliance_clearances
        where party_id in (select jsonb_array_elements_text(${json(input.parties)}))) as "cleared",
      (select coalesce(jsonb_agg(jsonb_build_array(party_id, subject, review, id)), '[]'::jsonb)
         from compliance_party_hits
        where party_id in (select jsonb_array_elements_text(${json(input.parties)}))
          and status = 'listed' and review in ('open', 'confirmed', 'blocked')) as "held",
      (select coalesce(jsonb_agg(jsonb_build_object(
                'transferId', transfer_id, 'direction', direction, 'companyId', company_id,
                'counterpartyId', counterparty_id, 'counterpartyAddress', counterparty_address,
                'amountSats', amount_sats::text, 'fiatMinor', fiat_minor::text,
                'fiatCurrency', fiat_currency, 'occurredAt', occurred_at, 'outcome', outcome)), '[]'::jsonb)
         from compliance_transfers
        where transfer_id in (select jsonb_array_elements_text(${json(ids)}))) as "previous",
      ${windows} as "windows",
      (select coalesce(jsonb_agg(jsonb_build_array(node, address, hops)), '[]'::jsonb)
         from compliance_exposure
        where node in (select jsonb_array_elements_text(${json(input.nodes)}))) as "exposure"`);
  const [row] = rowsOf(result);
  if (!row) throw new Error('the gate read returned no row');
  const state = parseJson(row.exposureState) as { listsKey: string; maxHops: number } | null;
  const cleared = parseJson(row.cleared) as string[][];
  const held = new Map<string, { subject: string; review: string; hitId: string }[]>();
  for (const [partyId, subject, review, hitId] of parseJson(row.held) as string[][]) {
    if (!partyId || !subject || !review || !hitId) continue;
    held.set(partyId, [...(held.get(partyId) ?? []), { subject, review, hitId }]);
  }
  const previous = parseJson(row.previous) as Record<string, unknown>[];
  const perItem = parseJson(row.windows) as Array<
    Array<[number, string, string, number, string[]]>
  >;
  const exposure = parseJson(row.exposure) as Array<[string, string, number]>;
  return {
    activeListsKey: text(row.activeListsKey),
    exposureState: state,
    cleared: new Set(cleared.map((c) => c.join('|'))),
    held,
    previous: new Map(previous.map((p) => storedTransfer(p)).map((t) => [t.transferId, t])),
    windows: items.map((_, k) =>
      specs.map((_spec, j) => {
        const w = perItem[k]?.[j];
        if (!w) throw new Error(`the gate read lacks window ${j} of item ${k}`);
        return {
          count: Number(w[0]),
          satsSum: BigInt(w[1]),
          fiatSum: BigInt(w[2]),
          distinctCounterparties: Number(w[3]),
          presentCounterparties: new Set(w[4]),
        };
      }),
    ),
    exposure: exposure.map(([node, address, hops]) => ({ node, address, hops: Number(hops) })),
  };
}

/** The exposure table's entries for these nodes (after a rebuild). */
export async function readExposure(tx: Orm, nodes: string[]): Promise<ExposureEntry[]> {
  const result = await tx.execute(sql`
    select node, address, hops from compliance_exposure
     where node in (select jsonb_array_elements_text(${json(nodes)}))`);
  return rowsOf(result).map((r) => ({
    node: text(r.node),
    address: text(r.address),
    hops: Number(r.hops),
  }));
}

/**
 * Rebuilds the exposure table for the given lists: every address a transfer not blocked used is
 * screened (`isListed`), and each listed one's neighbourhood within `maxHops` is stored. Takes
 * the audit head lock first: the gate writes transfers (and its trigger updates the table) only
 * while holding it, so no transfer is written meanwhile. Does nothing when another transaction
 * built it for these lists in the meantime.
 */
export async function rebuildExposure(
  tx: Orm,
  listsKey: string,
  maxHops: number,
  isListed: (address: string) => boolean,
  now: Date,
): Promise<void> {
  await lockAuditHead(tx);
  const [state] = rowsOf(
    await tx.execute(sql`
      select lists_key as "listsKey", max_hops as "maxHops"
        from compliance_exposure_state where singleton = 1`),
  );
  if (state && text(state.listsKey) === listsKey && Number(state.maxHops) >= maxHops) return;
  const used = rowsOf(
    await tx.execute(sql`
      select distinct counterparty_address as address from compliance_transfers
       where outcome <> 'block' and counterparty_address <> ''`),
  ).map((r) => text(r.address));
  const listed = used.filter(isListed);
  await tx.execute(sql`delete from compliance_exposure`);
  if (listed.length > 0) {
    await tx.execute(sql`
      select compliance_exposure_refresh(listed, ${maxHops}::int)
        from jsonb_array_elements_text(${json(listed)}) as listed`);
  }
  await tx.execute(sql`
    insert into compliance_exposure_state (singleton, lists_key, max_hops, built_at)
    values (1, ${listsKey}, ${maxHops}::int, ${now.toISOString()}::timestamptz)
    on conflict (singleton) do update
      set lists_key = excluded.lists_key, max_hops = excluded.max_hops, built_at = excluded.built_at`);
}

/**
 * Exposure searched for in full, without the table: breadth-first over the transfers not blocked
 * (this transfer's own stored row left out), starting from the transfer's nodes; every address
 * reached, nearest first (addresses in code-point order at equal distance). For a process whose
 * lists are not the active ones yet, and for a transfer decided again with another address.
 */
export async function searchExposure(
  tx: Orm,
  start: { transferId: string; nodes: string[] },
  maxHops: number,
): Promise<Array<{ address: string; hops: number }>> {
  const transferId = start.transferId;
  // A node is a party ('p', id) or an address ('a', address); a transfer row links its
  // company, counterparty and address (when it has one). UNION keeps each (node, hop) once.
  const neighbours = (column: string) => sql`
      select t.company_id, t.counterparty_id, t.counterparty_address
      from compliance_transfers t
      where t.${sql.raw(column)} = r.id and t.outcome <> 'block' and t.transfer_id <> ${transferId}`;
  const startRows = start.nodes.map(
    (node) => sql`(${node.slice(0, 1)}::text, ${node.slice(2)}::text, 0)`,
  );
  const result = await tx.execute(sql`
      with recursive reach(kind, id, hop) as (
        values ${sql.join(startRows, sql`, `)}
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
        where r.hop < ${maxHops}::int and not (n.kind = 'a' and n.id = '')
      )
      select id as address, min(hop) as hops
      from reach
      where kind = 'a'
      group by id
      having min(hop) > 0
      order by hops, id collate "C"`);
  return rowsOf(result).map((r) => ({ address: text(r.address), hops: Number(r.hops) }));
}

/** A decision row, a monitoring row and a Travel Rule message as the batch writes them. */
export interface DecisionWrite {
  id: string;
  transferId: string;
  platformId: string;
  companyId: string;
  counterpartyId: string;
  direction: string;
  outcome: string;
  reasons: unknown;
  listSnapshotIds: string[];
  ruleVersions: string[];
  monitoringScore: number;
  facts: unknown;
  decidedAt: Date;
}
export interface TransferWrite {
  transferId: string;
  decisionId: string;
  platformId: string;
  companyId: string;
  counterpartyId: string;
  counterpartyAddress: string;
  direction: string;
  amountSats: bigint;
  fiatMinor: bigint;
  fiatCurrency: string;
  occurredAt: Date;
  outcome: string;
}
export interface TravelRuleWrite {
  id: string;
  transferId: string;
  decisionId: string;
  fromPlatformId: string;
  toPlatformId: string;
  payload: unknown;
  createdAt: Date;
}

/**
 * A batch's writes as data-modifying common table expressions (for one statement, with its
 * audit events): the decisions, the Travel Rule messages, and the monitoring rows (one per
 * transfer id: a transfer decided again keeps its latest decision). Each table's rows travel as
 * one JSON parameter.
 */
export function decisionWrites(batch: {
  decisions: DecisionWrite[];
  transfers: TransferWrite[];
  travelRules: TravelRuleWrite[];
}): SQL {
  const decisionRows = batch.decisions.map((d) => ({ ...d, decidedAt: d.decidedAt.toISOString() }));
  const transferRows = batch.transfers.map((t) => ({
    ...t,
    amountSats: t.amountSats.toString(),
    fiatMinor: t.fiatMinor.toString(),
    occurredAt: t.occurredAt.toISOString(),
  }));
  const ctes = [
    sql`gate_decisions as (
      insert into compliance_decisions
        (id, transfer_id, platform_id, company_id, counterparty_id, direction, outcome, reasons,
         list_snapshot_ids, rule_versions, monitoring_score, facts, decided_at)
      select "id", "transferId", "platformId", "companyId", "counterpartyId", "direction",
             "outcome", "reasons", "listSnapshotIds", "ruleVersions", "monitoringScore", "facts",
             "decidedAt"
        from jsonb_to_recordset(${json(decisionRows)}) as x(
          "id" text, "transferId" text, "platformId" text, "companyId" text,
          "counterpartyId" text, "direction" text, "outcome" text, "reasons" jsonb,
          "listSnapshotIds" jsonb, "ruleVersions" jsonb, "monitoringScore" float8,
          "facts" jsonb, "decidedAt" timestamptz))`,
    sql`gate_transfers as (
      insert into compliance_transfers
        (transfer_id, decision_id, platform_id, company_id, counterparty_id,
         counterparty_address, direction, amount_sats, fiat_minor, fiat_currency, occurred_at,
         outcome)
      select "transferId", "decisionId", "platformId", "companyId", "counterpartyId",
             "counterpartyAddress", "direction", "amountSats", "fiatMinor", "fiatCurrency",
             "occurredAt", "outcome"
        from jsonb_to_recordset(${json(transferRows)}) as x(
          "transferId" text, "decisionId" text, "platformId" text, "companyId" text,
          "counterpartyId" text, "counterpartyAddress" text, "direction" text,
          "amountSats" bigint, "fiatMinor" bigint, "fiatCurrency" text,
          "occurredAt" timestamptz, "outcome" text)
      on conflict (transfer_id) do update set
        decision_id = excluded.decision_id, platform_id = excluded.platform_id,
        company_id = excluded.company_id, counterparty_id = excluded.counterparty_id,
        counterparty_address = excluded.counterparty_address, direction = excluded.direction,
        amount_sats = excluded.amount_sats, fiat_minor = excluded.fiat_minor,
        fiat_currency = excluded.fiat_currency, occurred_at = excluded.occurred_at,
        outcome = excluded.outcome, voided_at = null, void_reason = null)`,
  ];
  if (batch.travelRules.length > 0) {
    const rows = batch.travelRules.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() }));
    ctes.push(sql`gate_travel_rules as (
      insert into compliance_travel_rule_messages
        (id, transfer_id, decision_id, from_platform_id, to_platform_id, payload, created_at)
      select "id", "transferId", "decisionId", "fromPlatformId", "toPlatformId", "payload",
             "createdAt"
        from jsonb_to_recordset(${json(rows)}) as x(
          "id" text, "transferId" text, "decisionId" text, "fromPlatformId" text,
          "toPlatformId" text, "payload" jsonb, "createdAt" timestamptz))`);
  }
  return sql.join(ctes, sql`, `);
}
