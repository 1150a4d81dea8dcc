import { runBatchWhenFunded } from '../batch';
import { everyItem } from '../../db';
import { formatBtc, type SeededRandom } from '../../kernel';
import { demoTravelRule } from '../travel-rule';
import {
  NothingToDo,
  READER,
  blockedId,
  isOrdinary,
  shuffle,
  withRequest,
  type ContractCast,
} from './read-cast';
import type { ActionContext } from './context';
import type { ActionResult } from './types';

/**
 * The activity's money actions: an invoice a foreign buyer pays, a payout two officers approve,
 * a platform's payout batch, and the structuring pattern.
 */

/** Below these open amounts a contract is left alone (USD cents; sats). */
const MIN_OPEN_USD_CENTS = 10_000_000n;
const MIN_OPEN_SATS = 100_000_000n;

/**
 * An ordinary invoice, in USD: 2,000–8,500 or 10,500–24,000 in steps of 250. The band just under
 * 10,000 is left to the structuring pattern, so that structuring alerts come from it and not
 * from chance (three ordinary invoices there within 72 hours would look the same).
 */
function ordinaryInvoiceUsd(random: SeededRandom): number {
  return random.next() < 0.5 ? 2_000 + 250 * random.int(0, 26) : 10_500 + 250 * random.int(0, 54);
}

/** Mostly ordinary trade; one time in twenty any active contract (the gate may stop it). */
function pickContract(
  ctx: ActionContext,
  random: SeededRandom,
  direction: 'export' | 'import',
  usable: (c: ContractCast) => boolean = () => true,
): ContractCast {
  const active = ctx.cast.contracts.filter(
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

async function issueAndPay(
  ctx: ActionContext,
  contract: ContractCast,
  usd: number,
  step: number,
): Promise<{
  id: string;
  gate: 'allow' | 'review' | 'block';
  txid: string | null;
  sats: bigint;
}> {
  const { trade, registry } = ctx.ports.services;
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
  const txid = await ctx.buyers.pay(invoice.address, invoice.amountSats);
  return { id: invoice.id, gate: invoice.gateOutcome, txid, sats: invoice.amountSats };
}

export async function invoiceAction(
  ctx: ActionContext,
  random: SeededRandom,
  step: number,
): Promise<ActionResult> {
  const contract = pickContract(ctx, random, 'export', (c) => c.unit === 'USD');
  const usd = ordinaryInvoiceUsd(random);
  const paid = await issueAndPay(ctx, contract, usd, step);
  const who = `${contract.company.name} invoiced ${contract.party.name} ${usd.toLocaleString('en-US')} USD (${paid.id})`;
  const message =
    paid.gate === 'block'
      ? `demo activity: ${who}; the policy gate blocked it`
      : `demo activity: ${who}; the buyer paid ${formatBtc(paid.sats)} BTC in ${paid.txid ?? ''}${paid.gate === 'review' ? ' (held for review by the gate)' : ''}`;
  const outcome = { allow: 'paid', review: 'review', block: 'blocked' }[paid.gate];
  return { outcome, message, ids: [paid.id] };
}

/**
 * The company's user asks to pay `amount` against the import contract; unless the gate holds or
 * blocks it, two officers other than the maker approve it.
 */
async function requestAndApprove(
  ctx: ActionContext,
  contract: ContractCast,
  amount: bigint,
  step: number,
): Promise<ActionResult> {
  const { trade, registry } = ctx.ports.services;
  const company = contract.company;
  const platform = company.platform;
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

export async function payoutAction(
  ctx: ActionContext,
  random: SeededRandom,
  step: number,
): Promise<ActionResult> {
  const { trade, ledger } = ctx.ports.services;
  // A company with funds to pay a supplier, trying a few in the order the step's draw gives.
  const candidates = ctx.cast.contracts.filter(
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
    return requestAndApprove(ctx, contract, amount, step);
  }
  // No company has the funds to pay a supplier yet: one invoices a buyer instead.
  return { ...(await invoiceAction(ctx, random, step)), kind: 'invoice' as const };
}

export async function batchAction(
  ctx: ActionContext,
  random: SeededRandom,
  step: number,
): Promise<ActionResult> {
  const { trade } = ctx.ports.services;
  for (const platform of shuffle(
    random,
    ctx.cast.platforms.filter((p) => p.licenceActive),
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
  return { ...(await invoiceAction(ctx, random, step)), kind: 'invoice' as const };
}

export async function structuringAction(
  ctx: ActionContext,
  random: SeededRandom,
  step: number,
): Promise<ActionResult> {
  const contract = pickContract(
    ctx,
    random,
    'export',
    (c) => c.unit === 'USD' && isOrdinary(c, 'export'),
  );
  const results = [];
  for (let i = 0; i < 3; i++)
    results.push(await issueAndPay(ctx, contract, 9_400 + 25 * random.int(0, 22), step));
  const flagged = results.some((r) => r.gate !== 'allow');
  return {
    outcome: flagged ? 'flagged' : 'paid',
    message: `demo activity: ${contract.company.name} issued three invoices just under 10,000 USD to ${contract.party.name} (structuring pattern): gate ${results.map((r) => `${r.gate} (${r.id})`).join(', ')}`,
    ids: results.map((r) => r.id),
  };
}
