import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { auditEventFacts, auditHeadFacts } from '../audit';
import { clearingDealFacts, clearingLotFacts } from '../clearing';
import {
  complianceAlertFacts,
  complianceCaseFacts,
  complianceDecisionFacts,
  complianceHitFacts,
} from '../compliance';
import {
  miningBlockFacts,
  miningOutputFacts,
  miningSiteNames,
  miningViolationFacts,
} from '../mining';
import { registryKycFacts, registryLicenceFacts, registryParticipantFacts } from '../registry';
import {
  tradeBatchFacts,
  tradeContractFacts,
  tradeInvoiceFacts,
  tradePayoutApprovalFacts,
  tradePayoutFacts,
} from '../trade';
import type { Caller } from '../kernel';

/**
 * The SQL behind each role's home page: per role one statement of counts (a single row of
 * scalar subqueries) and one statement of short queues (a `union all` of `limit`ed selects,
 * each row tagged with its queue), so a home page costs two queries whatever the data. Every
 * statement is scoped to the caller's tenancy in its `where` clauses: the platform by
 * `platform_id`, the company by `company_id`, the miner by `miner_id`; the supervisor and the
 * auditor see the scheme. Names come from the registry's participants joined in the same
 * statement.
 *
 * Other modules' data is read only through the read models they publish (views declared in
 * their read-models.ts, exported from their index.ts), never their tables
 * (test/docs/read-models.test.ts).
 */

/** Items per queue on a home page: the head of the queue, the full list is a click away. */
export const QUEUE_LENGTH = 5;

export interface HomeWindow {
  /** Start of the caller's day (UTC, as the server's periods are). */
  readonly today: Date;
  readonly now: Date;
  /** `now` + 30 days: the licence-expiry horizon. */
  readonly horizon: Date;
}

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;
const name = (alias: string, id: SQL) => sql`coalesce(${sql.raw(alias)}.legal_name, ${id})`;

/** The most severe of a case's alerts (the severity compliance stores), as a rank for `max`. */
const CASE_SEVERITY = sql`(select case max(case a.severity when 'critical' then 4 when 'high' then 3
  when 'medium' then 2 else 1 end) when 4 then 'critical' when 3 then 'high' when 2 then 'medium'
  else 'low' end from ${complianceAlertFacts} a where a.case_id = c.id)`;

/** Columns every queue row has (null where a queue has nothing to say). */
const ITEM = `queue, id, title, detail, at, sats, fiat_minor, currency, badge, link`;

export function supervisorCounts(w: HomeWindow): SQL {
  return sql`select
    (select count(*) from ${miningBlockFacts} where time >= ${at(w.today)}) as blocks_today,
    (select max(height) from ${miningBlockFacts}) as tip_height,
    (select count(*) from ${complianceDecisionFacts}
      where decided_at >= ${at(w.today)} and outcome = 'block') as refusals_today,
    (select count(*) from ${complianceDecisionFacts} where outcome = 'block') as refusals,
    (select count(*) from ${miningViolationFacts} where status in ('open', 'linked')) as violations_open,
    (select count(*) from ${miningViolationFacts} where block_time >= ${at(w.today)}) as violations_today,
    (select count(*) from ${registryLicenceFacts} where status = 'active'
      and valid_to >= ${at(w.now)} and valid_to < ${at(w.horizon)}) as licences_expiring,
    (select count(*) from ${complianceCaseFacts} where state <> 'closed') as cases_open,
    (select count(*) from ${clearingDealFacts} where status = 'held') as deals_held,
    (select coalesce(json_agg(json_build_object('severity', severity, 'age', age, 'n', n)), '[]'::json)
      from (select severity, age, count(*) as n from (
        select ${CASE_SEVERITY} as severity,
          case when c.opened_at >= ${at(w.now)} - interval '1 day' then 'day'
               when c.opened_at >= ${at(w.now)} - interval '7 days' then 'week'
               else 'older' end as age
        from ${complianceCaseFacts} c where c.state <> 'closed') open_cases
      group by severity, age) grouped) as cases`;
}

export function supervisorQueues(w: HomeWindow): SQL {
  return sql`select ${sql.raw(ITEM)} from (
    (select 'refusals' as queue, d.id, ${name('co', sql`d.company_id`)} || ' → ' || ${name('cp', sql`d.counterparty_id`)} as title,
      d.direction || ' refused by the gate' as detail, d.decided_at as at,
      null::text as sats, null::text as fiat_minor, null::text as currency, d.outcome as badge,
      coalesce(d.transfer_id, '') || '|' || d.id as link
     from ${complianceDecisionFacts} d
     left join ${registryParticipantFacts} co on co.id = d.company_id
     left join ${registryParticipantFacts} cp on cp.id = d.counterparty_id
     where d.outcome = 'block' order by d.decided_at desc, d.id desc limit ${QUEUE_LENGTH})
    union all
    (select 'cases', c.id, ${name('p', sql`c.party_id`)},
      (select count(*) from ${complianceAlertFacts} a where a.case_id = c.id)::text || ' alerts · ' || c.state,
      c.opened_at, null, null, null, ${CASE_SEVERITY}, c.id
     from ${complianceCaseFacts} c left join ${registryParticipantFacts} p on p.id = c.party_id
     where c.state <> 'closed' order by c.opened_at, c.id limit ${QUEUE_LENGTH})
    union all
    (select 'violations', v.attribution_id, ${name('m', sql`v.miner_id`)},
      coalesce(s.name, v.site_id) || ' · ' || v.region_code || ' · block ' || v.height,
      v.block_time, v.value_sats::text, null, null, v.status, 'all|' || v.attribution_id
     from ${miningViolationFacts} v left join ${registryParticipantFacts} m on m.id = v.miner_id
     left join ${miningSiteNames} s on s.id = v.site_id
     where v.status in ('open', 'linked') order by v.block_time desc, v.attribution_id desc
     limit ${QUEUE_LENGTH})
    union all
    (select 'licences', l.id, ${name('p', sql`l.participant_id`)}, l.kind || ' licence expires',
      l.valid_to, null, null, null, l.status, l.id
     from ${registryLicenceFacts} l left join ${registryParticipantFacts} p on p.id = l.participant_id
     where l.status = 'active' and l.valid_to >= ${at(w.now)} and l.valid_to < ${at(w.horizon)}
     order by l.valid_to, l.id limit ${QUEUE_LENGTH})
    union all
    (select 'held', d.id, ${name('m', sql`d.miner_id`)} || ' → ' || ${name('co', sql`d.company_id`)},
      case d.held_from when 'delivering' then 'the network refused the delivery'
        else 'the coin leg failed its checks at confirmation' end,
      d.updated_at, d.amount_sats::text, d.fiat_minor::text, d.currency, d.held_from, d.id
     from ${clearingDealFacts} d
     left join ${registryParticipantFacts} m on m.id = d.miner_id
     left join ${registryParticipantFacts} co on co.id = d.company_id
     where d.status = 'held' order by d.updated_at, d.id limit ${QUEUE_LENGTH})
  ) q`;
}

/** Payouts the officer may approve: awaiting approval, not made by them, not approved by them (maker-checker). */
function awaitingMyApproval(caller: Caller): SQL {
  return sql`p.platform_id = ${caller.participantId} and p.status = 'awaitingApproval'
    and p.created_by_person <> ${caller.personId} and p.created_by <> ${caller.actorId}
    and not exists (select 1 from ${tradePayoutApprovalFacts} a
      where a.payout_id = p.id and a.person_id = ${caller.personId})`;
}

/** A KYC record due: pending, expired, or its periodic review within 30 days. */
const kycDue = (w: HomeWindow) =>
  sql`(k.status in ('pending', 'expired') or k.review_due < (${at(w.horizon)})::date)`;

export function platformCounts(caller: Caller, w: HomeWindow): SQL {
  const me = caller.participantId;
  return sql`select
    (select count(*) from ${tradePayoutFacts} p where ${awaitingMyApproval(caller)}) as approvals,
    (select count(*) from ${tradePayoutFacts} p where p.platform_id = ${me} and p.status = 'awaitingReview') as reviews,
    (select count(*) from ${registryKycFacts} k where k.platform_id = ${me} and ${kycDue(w)}) as kyc_due,
    (select count(*) from ${complianceHitFacts} h where h.platform_id = ${me}
      and h.status = 'listed' and h.review = 'open') as hits_open,
    (select count(*) from ${tradeBatchFacts} b where b.platform_id = ${me}
      and b.status in ('awaitingSignature', 'signed', 'broadcast')) as batches_in_flight,
    (select count(*) from ${complianceDecisionFacts} d where d.platform_id = ${me}
      and d.decided_at >= ${at(w.today)} and d.outcome = 'block') as refusals_today`;
}

export function platformQueues(caller: Caller, w: HomeWindow): SQL {
  const me = caller.participantId;
  return sql`select ${sql.raw(ITEM)} from (
    (select 'approvals' as queue, p.id, ${name('co', sql`p.company_id`)} || ' → ' || ${name('cp', sql`p.counterparty_id`)} as title,
      (select count(*) from ${tradePayoutApprovalFacts} a where a.payout_id = p.id)::text || ' of '
        || p.required_approvals || ' approvals' as detail, p.created_at as at,
      p.amount_sats::text as sats, p.fiat_minor::text as fiat_minor, p.currency, p.status as badge,
      p.id as link
     from ${tradePayoutFacts} p left join ${registryParticipantFacts} co on co.id = p.company_id
     left join ${registryParticipantFacts} cp on cp.id = p.counterparty_id
     where ${awaitingMyApproval(caller)} order by p.created_at, p.id limit ${QUEUE_LENGTH})
    union all
    (select 'kyc', k.participant_id, ${name('p', sql`k.participant_id`)},
      p.kind || ' · review due ' || k.review_due::text || ' · ' || k.risk_rating || ' risk',
      k.updated_at, null, null, null, k.status, k.participant_id
     from ${registryKycFacts} k left join ${registryParticipantFacts} p on p.id = k.participant_id
     where k.platform_id = ${me} and ${kycDue(w)} order by k.review_due, k.participant_id
     limit ${QUEUE_LENGTH})
    union all
    (select 'hits', h.id, ${name('p', sql`h.party_id`)},
      h.source || ' · ' || coalesce(h.matched_name, h.subject) || ' · score ' || round(h.score::numeric)::text,
      h.listed_at, null, null, null, h.review, h.party_id
     from ${complianceHitFacts} h left join ${registryParticipantFacts} p on p.id = h.party_id
     where h.platform_id = ${me} and h.status = 'listed' and h.review = 'open'
     order by h.listed_at desc, h.id desc limit ${QUEUE_LENGTH})
    union all
    (select 'batches', b.id,
      (select count(*) from ${tradePayoutFacts} p where p.batch_id = b.id)::text || ' payouts',
      coalesce('fee ' || b.fee_sats::text || ' sats · ' || b.vsize || ' vB', ''),
      b.created_at, (select sum(p.amount_sats) from ${tradePayoutFacts} p where p.batch_id = b.id)::text,
      null, null, b.status, b.id
     from ${tradeBatchFacts} b where b.platform_id = ${me}
       and b.status in ('awaitingSignature', 'signed', 'broadcast')
     order by b.created_at, b.id limit ${QUEUE_LENGTH})
  ) q`;
}

export function companyCounts(caller: Caller): SQL {
  const me = caller.participantId;
  const byStatus = (
    facts: SQLWrapper,
  ) => sql`(select coalesce(json_object_agg(status, n), '{}'::json)
    from (select status, count(*) as n from ${facts} where company_id = ${me}
      group by status) s)`;
  return sql`select ${byStatus(tradeInvoiceFacts)} as invoices, ${byStatus(tradePayoutFacts)} as payouts,
    (select coalesce(json_agg(json_build_object('currency', currency, 'open', open, 'n', n)), '[]'::json)
      from (select currency, sum(amount_minor - settled_amount)::text as open, count(*) as n
        from ${tradeContractFacts} where company_id = ${me} and status in ('approved', 'active')
        group by currency order by currency) c) as balances`;
}

export function companyQueues(caller: Caller): SQL {
  const me = caller.participantId;
  return sql`select ${sql.raw(ITEM)} from (
    (select 'invoices' as queue, i.id, ${name('cp', sql`i.counterparty_id`)} as title,
      coalesce(nullif(i.description, ''), 'Invoice') as detail, i.expires_at as at,
      i.amount_sats::text as sats, i.fiat_minor::text as fiat_minor, i.currency, i.status as badge,
      i.id as link
     from ${tradeInvoiceFacts} i left join ${registryParticipantFacts} cp on cp.id = i.counterparty_id
     where i.company_id = ${me} and i.status in ('new', 'processing')
     order by i.created_at desc, i.id desc limit ${QUEUE_LENGTH})
    union all
    (select 'payouts', p.id, ${name('cp', sql`p.counterparty_id`)}, coalesce(nullif(p.memo, ''), 'Payout'),
      p.created_at, p.amount_sats::text, p.fiat_minor::text, p.currency, p.status, p.id
     from ${tradePayoutFacts} p left join ${registryParticipantFacts} cp on cp.id = p.counterparty_id
     where p.company_id = ${me} and p.status not in ('completed', 'cancelled')
     order by p.created_at desc, p.id desc limit ${QUEUE_LENGTH})
    union all
    (select 'contracts', c.id, ${name('cp', sql`c.counterparty_id`)}, c.direction || ' · ' || c.goods_description,
      c.updated_at, null, (c.amount_minor - c.settled_amount)::text, c.currency, c.status, c.id
     from ${tradeContractFacts} c left join ${registryParticipantFacts} cp on cp.id = c.counterparty_id
     where c.company_id = ${me} and c.status in ('approved', 'active')
     order by c.amount_minor - c.settled_amount desc, c.id limit ${QUEUE_LENGTH})
  ) q`;
}

export function minerCounts(caller: Caller, w: HomeWindow): SQL {
  const me = caller.participantId;
  const month = new Date(Date.UTC(w.now.getUTCFullYear(), w.now.getUTCMonth(), 1));
  return sql`select
    (select count(*) from ${miningOutputFacts} where miner_id = ${me}) as outputs,
    (select coalesce(sum(value_sats), 0)::text from ${miningOutputFacts} where miner_id = ${me}
      and block_time >= ${at(month)}) as month_sats,
    (select coalesce(json_object_agg(clearance, n), '{}'::json) from (select clearance, count(*) as n
      from ${clearingLotFacts} where miner_id = ${me} group by clearance) l) as lots,
    (select count(*) from ${miningViolationFacts} where miner_id = ${me}
      and status in ('open', 'linked')) as violations_open,
    (select count(*) from ${miningViolationFacts} where miner_id = ${me}) as violations`;
}

export function minerQueues(caller: Caller): SQL {
  const me = caller.participantId;
  return sql`select ${sql.raw(ITEM)} from (
    (select 'output' as queue, month as id, month as title, n::text || ' outputs' as detail,
      null::timestamptz as at, sats, null::text as fiat_minor, null::text as currency,
      null::text as badge, month as link
     from (select to_char(block_time at time zone 'UTC', 'YYYY-MM') as month, count(*) as n,
        sum(value_sats)::text as sats
      from ${miningOutputFacts} where miner_id = ${me} group by 1) m
     order by month desc limit 6)
    union all
    (select 'lots', l.id, 'Block ' || l.height || ' output ' || l.vout,
      coalesce(s.name, l.site_id) || ' · ' || l.region_code, l.block_time, l.value_sats::text,
      null, null, l.clearance, l.id
     from ${clearingLotFacts} l left join ${miningSiteNames} s on s.id = l.site_id
     where l.miner_id = ${me} order by l.created_at desc, l.id desc limit ${QUEUE_LENGTH})
    union all
    (select 'violations', v.attribution_id, coalesce(s.name, v.site_id),
      v.region_code || ' · block ' || v.height, v.block_time, v.value_sats::text, null, null,
      v.status, 'mine|' || v.attribution_id
     from ${miningViolationFacts} v left join ${miningSiteNames} s on s.id = v.site_id
     where v.miner_id = ${me} order by v.block_time desc, v.attribution_id desc
     limit ${QUEUE_LENGTH})
  ) q`;
}

export function auditorCounts(w: HomeWindow): SQL {
  return sql`select h.count::text as events, h.last_hash, h.last_id,
    (select at from ${auditEventFacts} where id = h.last_id) as last_at,
    (select count(*) from ${complianceCaseFacts} where state <> 'closed') as cases_open,
    (select count(*) from ${complianceDecisionFacts} where decided_at >= ${at(w.today)}
      and outcome = 'block') as refusals_today
    from (select 1) one left join ${auditHeadFacts} h on true`;
}

export function auditorQueues(): SQL {
  return sql`select ${sql.raw(ITEM)} from (
    (select 'actions' as queue, e.id, e.action as title,
      e.entity_type || ' ' || e.entity_id || ' by ' || e.actor as detail, e.at,
      null::text as sats, null::text as fiat_minor, null::text as currency, null::text as badge,
      e.entity_id as link
     from ${auditEventFacts} e where e.actor_role = 'supervisor' order by e.seq desc limit 10)
  ) q`;
}
