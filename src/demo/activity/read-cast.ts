import { everyItem, type Page, type PageRequest } from '../../db';
import { AppError, systemCaller, type Caller, type SeededRandom } from '../../kernel';
import { counterpartyRole } from '../cast';
import { ACTIVITY_REQUEST_PREFIX, type ActivityPorts } from './types';

/**
 * The scheme as the activity acts on it (platforms, companies, counterparties, active contracts),
 * read through the services in id order, and the small helpers every action shares.
 */

export interface PlatformCast {
  id: string;
  name: string;
  licenceActive: boolean;
  officers: { maker: Caller; a: Caller; b: Caller };
}

export interface CompanyCast {
  id: string;
  name: string;
  platform: PlatformCast;
  user: Caller;
}

export interface PartyCast {
  id: string;
  /** The platform that registered it: only that platform's companies contract with it. */
  platformId: string | null;
  name: string;
  role: ReturnType<typeof counterpartyRole>;
  /** The first registered address (payouts go there), or null. */
  address: string | null;
}

export interface ContractCast {
  id: string;
  direction: 'export' | 'import';
  company: CompanyCast;
  party: PartyCast;
  /** In the contract's unit (USD cents for the fiat export contracts, sats for fixed-BTC). */
  openAmount: bigint;
  unit: string;
}

export interface Cast {
  platforms: PlatformCast[];
  companies: CompanyCast[];
  parties: PartyCast[];
  contracts: ContractCast[];
}

/** An action that could not start (nothing to act on); logged like a failed service call. */
export class NothingToDo extends Error {}

export const READER = systemCaller('demo.activity');

export function requestIdOf(step: number): string {
  return `${ACTIVITY_REQUEST_PREFIX}${step}`;
}

export function withRequest(caller: Caller, step: number): Caller {
  return { ...caller, requestId: requestIdOf(step) };
}

/** The id of the invoice or payout the gate blocked (kept invalid or cancelled), if that is the error. */
export function blockedId(error: unknown, key: 'invoiceId' | 'payoutId'): string | null {
  if (!(error instanceof AppError) || error.code !== 'TRANSFER_BLOCKED') return null;
  const id = error.details?.[key];
  return typeof id === 'string' ? id : null;
}

export function isOrdinary(contract: ContractCast, direction: 'export' | 'import'): boolean {
  return (
    contract.company.platform.licenceActive &&
    contract.party.role === (direction === 'export' ? 'buyer' : 'supplier')
  );
}

export function shuffle<T>(random: SeededRandom, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Every item of a paged list, in id order (the lists are newest first). */
async function everyOf<T extends { id: string }>(
  list: (page: PageRequest) => Promise<Page<T>>,
): Promise<T[]> {
  const all: T[] = [];
  for await (const item of everyItem(list)) all.push(item);
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function platformOfficer(platformId: string, who: string): Caller {
  return {
    role: 'platform',
    participantId: platformId,
    platformId,
    actorId: `demo:${who}@${platformId}`,
    personId: `demo:${who}@${platformId}`,
    requestId: null,
  };
}

async function readPlatforms(ports: ActivityPorts): Promise<PlatformCast[]> {
  const { registry } = ports.services;
  const licences = await everyOf((page) => registry.listLicences(READER, {}, page));
  const platforms = await everyOf((page) =>
    registry.listParticipants(READER, { kind: 'platform' }, page),
  );
  return platforms.map((p) => ({
    id: p.id,
    name: p.legalName,
    licenceActive: licences.some(
      (l) => l.participantId === p.id && l.kind === 'vasp' && l.status === 'active',
    ),
    officers: {
      maker: platformOfficer(p.id, 'maker'),
      a: platformOfficer(p.id, 'officer-a'),
      b: platformOfficer(p.id, 'officer-b'),
    },
  }));
}

async function readCompanies(
  ports: ActivityPorts,
  platforms: readonly PlatformCast[],
): Promise<CompanyCast[]> {
  const { registry } = ports.services;
  const byPlatform = new Map(platforms.map((p) => [p.id, p]));
  const companies: CompanyCast[] = [];
  for (const c of await everyOf((page) =>
    registry.listParticipants(READER, { kind: 'company' }, page),
  )) {
    const platform = c.platformId ? byPlatform.get(c.platformId) : undefined;
    if (!platform) continue;
    companies.push({
      id: c.id,
      name: c.legalName,
      platform,
      user: {
        role: 'company',
        participantId: c.id,
        platformId: platform.id,
        actorId: `demo:user@${c.id}`,
        personId: `demo:user@${c.id}`,
        requestId: null,
      },
    });
  }
  return companies;
}

async function readParties(ports: ActivityPorts): Promise<PartyCast[]> {
  const { registry } = ports.services;
  const parties: PartyCast[] = [];
  for (const p of await everyOf((page) =>
    registry.listParticipants(READER, { kind: 'counterparty' }, page),
  )) {
    const [address] = await everyOf((page) =>
      registry.listCounterpartyAddresses(READER, p.id, page),
    );
    parties.push({
      id: p.id,
      platformId: p.platformId,
      name: p.legalName,
      role: counterpartyRole(p.legalName),
      address: address?.address ?? null,
    });
  }
  return parties;
}

async function readContracts(
  ports: ActivityPorts,
  companies: readonly CompanyCast[],
  parties: readonly PartyCast[],
): Promise<ContractCast[]> {
  const byCompany = new Map(companies.map((c) => [c.id, c]));
  const byParty = new Map(parties.map((p) => [p.id, p]));
  const contracts: ContractCast[] = [];
  for await (const c of everyItem((page) =>
    ports.services.trade.contracts.list(READER, { status: 'active' }, page),
  )) {
    const company = byCompany.get(c.companyId);
    const party = byParty.get(c.counterpartyId);
    if (!company || !party) continue;
    contracts.push({
      id: c.id,
      direction: c.direction,
      company,
      party,
      openAmount: c.openAmount,
      unit: c.unit,
    });
  }
  return contracts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The scheme as the activity acts on it, read through the services, in id order. */
export async function readCast(ports: ActivityPorts): Promise<Cast> {
  const platforms = await readPlatforms(ports);
  const companies = await readCompanies(ports, platforms);
  const parties = await readParties(ports);
  const contracts = await readContracts(ports, companies, parties);
  return { platforms, companies, parties, contracts };
}
