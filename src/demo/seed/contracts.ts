import type { SeededRandom } from '../../kernel';
import type { TradeService } from '../../trade';
import { EXPORT_GOODS, IMPORT_GOODS, type SizeProfile } from '../cast';
import {
  DAY_MS,
  type CompanyActor,
  type DemoProgress,
  type PartyActor,
  type PlatformActor,
  type Scheme,
} from './types';

/**
 * The trade contracts of the demo: every company exports to two buyers of its platform and
 * imports from one supplier, and the caught counterparties (listed address, refused jurisdiction)
 * each get a contract with a company of their platform, so that the gate has them to stop.
 */

export interface SeededContracts {
  /** How many contracts were activated. */
  readonly count: number;
  /** The caught counterparties each company has a contract with. */
  readonly caughtOf: ReadonlyMap<CompanyActor, readonly PartyActor[]>;
}

/** Whether a caught party is a supplier (the listed address: a payout to it) or a buyer. */
export const isCaughtSupplier = (p: PartyActor) => p.spec.role === 'listedAddress';

interface ContractSeeding {
  readonly trade: TradeService;
  readonly random: SeededRandom;
  /** The schedule's due date: past the end of the replay. */
  readonly dueDate: string;
  count: number;
}

export async function registerContracts(
  trade: TradeService,
  scheme: Scheme,
  random: SeededRandom,
  options: { profile: SizeProfile; from: Date; progress: DemoProgress },
): Promise<SeededContracts> {
  const { profile, from, progress } = options;
  progress.phase('registering trade contracts', scheme.companies.length);
  const seeding: ContractSeeding = {
    trade,
    random,
    dueDate: new Date(from.getTime() + (profile.days + 60) * DAY_MS).toISOString().slice(0, 10),
    count: 0,
  };
  const caughtOf = assignCaught(scheme);
  const buyers = scheme.parties.filter((p) => p.spec.role === 'buyer');
  const suppliers = scheme.parties.filter((p) => p.spec.role === 'supplier');
  for (const [i, company] of scheme.companies.entries()) {
    const platformBuyers = ofPlatform(buyers, company);
    const exportTo = [
      ...new Set([
        platformBuyers[i % platformBuyers.length]!,
        platformBuyers[(i + 1) % platformBuyers.length]!,
      ]),
    ];
    // Every other company also has a contract with one of the caught counterparties: trade
    // registers it, screening stops the money.
    exportTo.push(...(caughtOf.get(company) ?? []).filter((p) => !isCaughtSupplier(p)));
    for (const buyer of exportTo) await registerExport(seeding, company, buyer);
    const platformSuppliers = ofPlatform(suppliers, company);
    const importFrom = [platformSuppliers[i % platformSuppliers.length]!];
    importFrom.push(...(caughtOf.get(company) ?? []).filter(isCaughtSupplier));
    for (const supplier of importFrom) await registerImport(seeding, company, supplier);
    progress.update(i + 1, company.name);
  }
  return { count: seeding.count, caughtOf };
}

/**
 * Every caught counterparty gets a contract with a company of its own platform (in turn): the
 * listed address as a supplier (a payout to it), the others as buyers (an invoice from them).
 * The listed names were stopped at onboarding (flagged, never verified): no contract for them.
 */
function assignCaught(scheme: Scheme): Map<CompanyActor, PartyActor[]> {
  const caught = scheme.parties.filter(
    (p) => p.spec.role !== 'buyer' && p.spec.role !== 'supplier' && p.spec.role !== 'listedName',
  );
  const caughtTurn = new Map<string, number>();
  const caughtOf = new Map<CompanyActor, PartyActor[]>();
  for (const party of caught) {
    const candidates = scheme.companies.filter((c) => c.platform.id === party.platformId);
    if (candidates.length === 0) continue;
    const turn = caughtTurn.get(party.platformId) ?? 0;
    caughtTurn.set(party.platformId, turn + 1);
    const company = candidates[turn % candidates.length]!;
    caughtOf.set(company, [...(caughtOf.get(company) ?? []), party]);
  }
  return caughtOf;
}

/** A company contracts only with counterparties its own platform registered (and vouches for). */
function ofPlatform(pool: readonly PartyActor[], company: CompanyActor): PartyActor[] {
  const own = pool.filter((p) => p.platformId === company.platform.id);
  if (own.length === 0) throw new Error(`the demo cast gives ${company.platform.id} no party`);
  return own;
}

/** An export priced in USD: the company's user creates and submits it, the platform activates it. */
async function registerExport(seeding: ContractSeeding, company: CompanyActor, buyer: PartyActor) {
  const { trade, random } = seeding;
  const goods = EXPORT_GOODS[random.int(0, EXPORT_GOODS.length - 1)]!;
  const contract = await trade.contracts.create(company.caller, {
    counterpartyId: buyer.id,
    direction: 'export',
    goodsDescription: goods.goods,
    hsCode: goods.hs,
    incoterm: 'FOB',
    currency: 'USD',
    amount: '5000000.00',
    pricingMode: 'fiat',
    schedule: [{ dueDate: seeding.dueDate, amount: '5000000.00' }],
  });
  await trade.contracts.transition(company.caller, contract.id, 'submit');
  for (const action of ['approve', 'activate'] as const)
    await trade.contracts.transition(company.platform.officers.maker, contract.id, action);
  seeding.count++;
  company.exportContracts.push({ id: contract.id, counterparty: buyer });
}

/** An import priced in bitcoin, registered by the platform's maker for the company. */
async function registerImport(
  seeding: ContractSeeding,
  company: CompanyActor,
  supplier: PartyActor,
) {
  const { trade, random } = seeding;
  const goods = IMPORT_GOODS[random.int(0, IMPORT_GOODS.length - 1)]!;
  const contract = await trade.contracts.create(company.platform.officers.maker, {
    companyId: company.id,
    counterpartyId: supplier.id,
    direction: 'import',
    goodsDescription: goods.goods,
    hsCode: goods.hs,
    incoterm: 'CIF',
    currency: 'USD',
    amount: '3000000.00',
    pricingMode: 'fixedBtc',
    btcAmountSats: '5000000000',
    schedule: [{ dueDate: seeding.dueDate, amount: '5000000000' }],
  });
  await activate(seeding, company.platform, contract.id);
  company.importContracts.push({
    id: contract.id,
    counterparty: supplier,
    address: supplier.address,
  });
}

/** Four eyes: the maker creates and submits, another officer approves. */
async function activate(seeding: ContractSeeding, platform: PlatformActor, id: string) {
  const { trade } = seeding;
  await trade.contracts.transition(platform.officers.maker, id, 'submit');
  await trade.contracts.transition(platform.officers['officer-a'], id, 'approve');
  await trade.contracts.transition(platform.officers.maker, id, 'activate');
  seeding.count++;
}
