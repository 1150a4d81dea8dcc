import { formatBtc, systemCaller, type Caller, type SeededRandom } from '../../kernel';
import type { ContractView } from '../../trade';
import { EXPORT_GOODS, IMPORT_GOODS } from '../cast';
import {
  NothingToDo,
  requestIdOf,
  withRequest,
  type CompanyCast,
  type PartyCast,
} from './read-cast';
import type { ActionContext } from './context';
import type { ActionResult } from './types';

const DAY_MS = 86_400_000;
/** A company keeps at most this many active contracts per direction with distinct parties. */
const MAX_PARTIES_PER_DIRECTION = 4;

/** The party to contract with: a new one of the platform, or, once it has a few, one it has. */
function pickParty(
  ctx: ActionContext,
  random: SeededRandom,
  company: CompanyCast,
  direction: 'export' | 'import',
): PartyCast {
  const role = direction === 'export' ? 'buyer' : 'supplier';
  const current = [
    ...new Map(
      ctx.cast.contracts
        .filter((c) => c.company.id === company.id && c.direction === direction)
        .map((c) => [c.party.id, c.party]),
    ).values(),
  ].filter((p) => p.role === role);
  // A follow-on contract with a party it already trades with, once it has a few.
  const parties =
    current.length >= MAX_PARTIES_PER_DIRECTION
      ? current
      : ctx.cast.parties.filter(
          (p) =>
            p.role === role &&
            p.platformId === company.platform.id &&
            (direction === 'export' || p.address !== null),
        );
  if (parties.length === 0) throw new NothingToDo(`no ordinary ${role} to contract with`);
  return random.pick(parties);
}

/**
 * Registers the contract as the company's user: an export in USD (FOB), or an import priced in
 * bitcoin (CIF). Returns it with its size for the log line.
 */
async function register(
  ctx: ActionContext,
  random: SeededRandom,
  user: Caller,
  direction: 'export' | 'import',
  party: PartyCast,
): Promise<{ created: ContractView; size: string }> {
  const { trade } = ctx.ports.services;
  const due = new Date(ctx.ports.clock.now().getTime() + 180 * DAY_MS).toISOString().slice(0, 10);
  if (direction === 'export') {
    const goods = random.pick(EXPORT_GOODS);
    const usd = `${(500_000 + 50_000 * random.int(0, 30)).toString()}.00`;
    const created = await trade.contracts.create(user, {
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
    return { created, size: `${Number(usd).toLocaleString('en-US')} USD` };
  }
  const goods = random.pick(IMPORT_GOODS);
  const btc = BigInt(random.int(5, 20)) * 100_000_000n;
  const created = await trade.contracts.create(user, {
    counterpartyId: party.id,
    direction,
    goodsDescription: goods.goods,
    hsCode: goods.hs,
    incoterm: 'CIF',
    currency: 'USD',
    amount: `${((btc / 100_000_000n) * BigInt(ctx.rate)).toString()}.00`,
    pricingMode: 'fixedBtc',
    btcAmountSats: btc.toString(),
    schedule: [{ dueDate: due, amount: btc.toString() }],
  });
  return { created, size: `${formatBtc(btc)} BTC` };
}

/**
 * A company registers a new contract with a party of its platform and submits it; the platform
 * approves and activates it (the supervisor approves too when it is above the scheme's threshold).
 */
export async function contractAction(
  ctx: ActionContext,
  random: SeededRandom,
  step: number,
): Promise<ActionResult> {
  const { trade } = ctx.ports.services;
  const companies = ctx.cast.companies.filter((c) => c.platform.licenceActive);
  if (companies.length === 0) throw new NothingToDo('no company on a licensed platform');
  const company = random.pick(companies);
  const direction = random.next() < 0.6 ? 'export' : 'import';
  const party = pickParty(ctx, random, company, direction);
  const user = withRequest(company.user, step);
  const { created, size } = await register(ctx, random, user, direction, party);
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
  ctx.cast.contracts.push({
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
