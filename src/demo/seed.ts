import { readFile } from 'node:fs/promises';
import { runBatchWhenFunded } from './batch';
import path from 'node:path';
import { LocalKeySigner } from '../bitcoin';
import type { ChainWatcher, Simnet } from '../chain';
import { SCHEME_PARTICIPANT_ID, type UserService } from '../access';
import type { Compliance } from '../compliance';
import type { Database } from '../db';
import {
  AppError,
  leiCheckDigits,
  SeededRandom,
  systemCaller,
  type Caller,
  type ManualClock,
  type Role,
} from '../kernel';
import type { FixedRateSource, LedgerService } from '../ledger';
import type { MiningService } from '../mining';
import type { RegistryService } from '../registry';
import type { TradeService } from '../trade';
import {
  companyName,
  counterparties,
  EXPORT_GOODS,
  IMPORT_GOODS,
  JURISDICTION,
  LISTED_XBT_ADDRESS,
  MINERS,
  PLATFORMS,
  REFUSED_JURISDICTION,
  REGION_TIME_ZONE,
  REGIONS,
  SIZES,
  type CounterpartySpec,
  type DemoSize,
} from './cast';
import { sellMinedCoins } from './miner-sales';
import { demoTravelRule } from './travel-rule';
import { BuyerWallet, demoKey } from './wallet';

/** What the demo drives: the services it calls and the chain it mines. */
export interface DemoPorts {
  readonly db: Database;
  readonly clock: ManualClock;
  readonly simnet: Simnet;
  readonly watcher: ChainWatcher;
  readonly rateDesk: FixedRateSource;
  readonly signerPassphrase: string;
  readonly services: {
    readonly users: UserService;
    readonly registry: RegistryService;
    readonly mining: MiningService;
    readonly compliance: Compliance;
    readonly trade: TradeService;
    readonly ledger: LedgerService;
  };
}

/** Progress of the seeding, shown as bars on a terminal and as plain lines elsewhere. */
export interface DemoProgress {
  phase(name: string, total: number): void;
  update(done: number, detail?: string): void;
  done(): void;
}

export const silentProgress: DemoProgress = { phase() {}, update() {}, done() {} };

export interface DemoLogin {
  readonly role: Role;
  readonly username: string;
  readonly password: string;
  readonly who: string;
}

export interface DemoOptions {
  readonly size: DemoSize;
  readonly seed: number;
  /** Directory holding test/vectors/sanctions (the real list files). */
  readonly sanctionsDir: string;
  readonly progress?: DemoProgress;
}

export interface DemoSummary {
  readonly size: DemoSize;
  readonly seed: number;
  readonly from: Date;
  readonly to: Date;
  readonly blocks: number;
  readonly reorgs: number;
  readonly contracts: number;
  readonly invoicesPaid: number;
  readonly payouts: number;
  readonly batches: number;
  readonly blockedTransfers: number;
  readonly gateDecisions: number;
  readonly licenceSuspended: string | null;
  readonly logins: readonly DemoLogin[];
}

/**
 * Demo logins. The passwords are printed at every start of a demo scheme: they exist only in a
 * demo database (`up --no-demo` never creates them).
 */
export const DEMO_LOGINS: readonly { role: Role; username: string; password: string }[] = [
  { role: 'supervisor', username: 'supervisor', password: 'demo-supervisor-pass' },
  { role: 'platform', username: 'platform', password: 'demo-platform-pass' },
  // A second officer of the same platform: the checker of the maker-checker approval of payouts.
  { role: 'platform', username: 'platform2', password: 'demo-platform2-pass' },
  { role: 'company', username: 'company', password: 'demo-company-pass' },
  { role: 'miner', username: 'miner', password: 'demo-miner-pass' },
  { role: 'auditor', username: 'auditor', password: 'demo-auditor-pass' },
];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const SUPERVISOR = systemCaller('demo.seed');
type Officer = 'maker' | 'officer-a' | 'officer-b';

interface PlatformActor {
  id: string;
  name: string;
  licenceId: string;
  officers: Record<Officer, Caller>;
}

interface CompanyActor {
  id: string;
  name: string;
  platform: PlatformActor;
  caller: Caller;
  exportContracts: { id: string; counterparty: PartyActor }[];
  importContracts: { id: string; counterparty: PartyActor; address: string }[];
  /** Sats the company's invoices brought in, less what its payouts took out (a budget only). */
  funds: bigint;
}

interface PartyActor {
  id: string;
  /** The platform that registered it: only that platform's companies contract with it. */
  platformId: string;
  spec: CounterpartySpec;
  address: string;
}

/** Whether the database already holds a scheme (a later start reuses it). */
export async function isSeeded(registry: RegistryService): Promise<boolean> {
  return (await registry.getSchemeJurisdiction()) !== null;
}

/** Where the replay starts for a run that ends now: `days` before today's midnight (UTC). */
export function replayStart(days: number, now: Date): Date {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - days * DAY_MS);
}

const monthDay = (d: Date) =>
  `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;

/**
 * Seeds the demo scheme and replays its activity on simnet at accelerated time: the caller's
 * ManualClock starts at the replay's first day and ends at its last; simnet's block times follow
 * it. Deterministic for a given seed, size and start.
 */
export async function seedDemo(ports: DemoPorts, options: DemoOptions): Promise<DemoSummary> {
  const profile = SIZES[options.size];
  const random = new SeededRandom(options.seed);
  const progress = options.progress ?? silentProgress;
  const { registry, mining, compliance, trade, users } = ports.services;
  const clock = ports.clock;
  const from = clock.now();

  // ---------------------------------------------------------------- sanctions lists
  const read = (file: string) => readFile(path.join(options.sanctionsDir, file));
  const lists: {
    label: string;
    load: () => Promise<Parameters<typeof compliance.screening.importList>[1]>;
  }[] = [
    {
      label: 'OFAC SDN (2021 CSV)',
      load: async () => ({
        format: 'ofac-csv',
        sdn: await read('ofac-2021/sdn.csv'),
        add: await read('ofac-2021/add.csv'),
        alt: await read('ofac-2021/alt.csv'),
      }),
    },
    {
      label: 'UN consolidated list (XML)',
      load: async () => ({
        format: 'un-xml',
        bytes: await read('un-consolidated-2026-02-27.xml'),
      }),
    },
    {
      label: 'OFAC digital-currency addresses (XBT)',
      load: async () => ({
        format: 'address-list',
        asset: 'XBT',
        bytes: await read('ofac-crypto-2024-09/sanctioned_addresses_XBT.txt'),
      }),
    },
  ];
  for (const list of lists) {
    progress.phase(`importing ${list.label}`, 100);
    await compliance.screening.importList(SUPERVISOR, await list.load(), (phase, done, total) =>
      progress.update(total > 0 ? Math.floor((done / total) * 100) : 0, phase),
    );
    progress.update(100);
  }

  // ---------------------------------------------------------------- the scheme
  const parties = counterparties(profile.counterparties);
  progress.phase(
    'registering the scheme',
    REGIONS.length + profile.platforms + profile.companies + parties.length + profile.miners,
  );
  let registered = 0;
  const step = (detail: string) => progress.update(++registered, detail);
  await registry.setSchemeJurisdiction(SUPERVISOR, JURISDICTION);
  await registry.setJurisdiction(SUPERVISOR, {
    country: REFUSED_JURISDICTION.country,
    riskLevel: 'high',
    refused: true,
    reason: REFUSED_JURISDICTION.reason,
  });
  // Three regions under a seasonal ban (grid load in the dry season) that covers part of the
  // replay: from two weeks in, for about a third of it.
  const banStart = new Date(from.getTime() + Math.max(3, Math.floor(profile.days / 6)) * DAY_MS);
  const banEnd = new Date(banStart.getTime() + Math.max(4, Math.floor(profile.days / 3)) * DAY_MS);
  for (const region of REGIONS) {
    await registry.createRegion(SUPERVISOR, {
      code: region.code,
      name: region.name,
      timeZone: REGION_TIME_ZONE,
    });
    if (region.banned) {
      await mining.declareBan(SUPERVISOR, region.code, {
        kind: 'seasonal',
        seasonStart: monthDay(banStart),
        seasonEnd: monthDay(banEnd),
        startYear: banStart.getUTCFullYear() - 1,
        endYear: banEnd.getUTCFullYear() + 1,
        reason: 'dry-season grid load: hydro output reserved for households',
      });
    }
    step(region.name);
  }

  const reviewDue = new Date(from.getTime() + 2 * 365 * DAY_MS).toISOString().slice(0, 10);
  const verify = (id: string) =>
    registry.setKyc(SUPERVISOR, id, {
      status: 'verified',
      riskRating: 'low',
      reviewDue,
      beneficialOwners: [],
      documents: [
        { type: 'certificate of incorporation', number: `REG-${id.slice(-8)}`, issuer: 'registry' },
      ],
    });

  const platforms: PlatformActor[] = [];
  for (let i = 0; i < profile.platforms; i++) {
    const name = PLATFORMS[i % PLATFORMS.length]!;
    const p = await registry.registerParticipant(SUPERVISOR, {
      kind: 'platform',
      legalName: name,
      country: JURISDICTION.country,
    });
    const licence = await registry.grantLicence(SUPERVISOR, {
      participantId: p.id,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: new Date(from.getTime() - 30 * DAY_MS).toISOString(),
      validTo: new Date(from.getTime() + 3 * 365 * DAY_MS).toISOString(),
    });
    const officer = (who: string): Caller => ({
      role: 'platform',
      participantId: p.id,
      platformId: p.id,
      actorId: `demo:${who}@${p.id}`,
      personId: `demo:${who}@${p.id}`,
      requestId: null,
    });
    const actor: PlatformActor = {
      id: p.id,
      name,
      licenceId: licence.id,
      officers: {
        maker: officer('maker'),
        'officer-a': officer('officer-a'),
        'officer-b': officer('officer-b'),
      },
    };
    // The platform's signing key, sealed at rest (simnet: a local key stands in for the
    // external signer a production platform uses).
    const seed = new Uint8Array(32);
    seed.set(random.bytes(32));
    await ports.db.transaction((tx) => trade.sealedKeys.store(tx, p.id, seed, 'regtest', 1 << 12));
    await trade.updateSettings(SUPERVISOR, p.id, {
      confirmations: 2,
      quorumThresholdSats: 20_000_000n,
      approvalsAbove: 2,
      approvalsBelow: 1,
      feeFloorSatPerKvB: 2_000n,
      feeCapSatPerKvB: 2_000n,
    });
    (actor as PlatformActor & { signer: LocalKeySigner }).signer = LocalKeySigner.fromSeed(
      seed,
      'regtest',
    );
    platforms.push(actor);
    step(name);
  }

  // Hosted addresses are held at registered foreign VASPs: one licensed exchange per country.
  const vaspIds = new Map<string, string>();
  const vaspOf = async (country: string): Promise<string> => {
    const known = vaspIds.get(country);
    if (known) return known;
    const prefix = `549300DEMOVASP00${country}`;
    const vasp = await registry.registerVasp(SUPERVISOR, {
      name: `${country} Licensed Exchange`,
      lei: `${prefix}${leiCheckDigits(prefix)}`,
      jurisdiction: country,
      licence: { authority: `${country} financial regulator`, number: `VASP-${country}-1` },
    });
    vaspIds.set(country, vasp.id);
    return vasp.id;
  };
  const partyActors: PartyActor[] = [];
  const ordinaryCount = parties.filter((p) => p.role === 'buyer' || p.role === 'supplier').length;
  for (const [i, spec] of parties.entries()) {
    // Roles repeat buyer, buyer, supplier: three in a row go to one platform, so each platform
    // has buyers and suppliers of its own; the caught ones are dealt out one per platform.
    const slot = i < ordinaryCount ? Math.floor(i / 3) : i - ordinaryCount;
    const platform = platforms[slot % platforms.length]!;
    const p = await registry.registerParticipant(SUPERVISOR, {
      kind: 'counterparty',
      ...(spec.personType ? { personType: spec.personType } : {}),
      legalName: spec.name,
      country: spec.country,
      platformId: platform.id,
    });
    // A listed name is flagged when the counterparty is registered (screening from onboarding):
    // its KYC is never verified, so it is stopped before any contract.
    if (spec.role !== 'listedName') await verify(p.id);
    const own = demoKey(`counterparty ${i}`).address;
    if (spec.role !== 'listedAddress' && spec.role !== 'listedName') {
      await registry.registerCounterpartyAddress(SUPERVISOR, p.id, {
        address: own,
        ownership: 'hosted',
        vaspId: await vaspOf(spec.country),
      });
    }
    partyActors.push({
      id: p.id,
      platformId: platform.id,
      spec,
      address: spec.role === 'listedAddress' ? LISTED_XBT_ADDRESS : own,
    });
    step(spec.name);
  }
  const ordinaryBuyers = partyActors.filter((p) => p.spec.role === 'buyer');
  const ordinarySuppliers = partyActors.filter((p) => p.spec.role === 'supplier');
  // The listed names were stopped at onboarding (flagged, never verified): no contract for them.
  const caught = partyActors.filter(
    (p) => p.spec.role !== 'buyer' && p.spec.role !== 'supplier' && p.spec.role !== 'listedName',
  );

  const companies: CompanyActor[] = [];
  for (let i = 0; i < profile.companies; i++) {
    const platform = platforms[i % platforms.length]!;
    const name = companyName(i);
    const c = await registry.registerParticipant(SUPERVISOR, {
      kind: 'company',
      legalName: name,
      country: JURISDICTION.country,
      platformId: platform.id,
    });
    await verify(c.id);
    const signer = (platform as PlatformActor & { signer: LocalKeySigner }).signer;
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    const account = `m/84'/1'/${i}'`;
    const descriptor = `wpkh([${fingerprint}/84h/1h/${i}h]${signer.accountXpub(account)}/<0;1>/*)`;
    await registry.registerWallet(platform.officers.maker, { companyId: c.id, descriptor });
    companies.push({
      id: c.id,
      name,
      platform,
      caller: {
        role: 'company',
        participantId: c.id,
        platformId: platform.id,
        actorId: `demo:user@${c.id}`,
        personId: `demo:user@${c.id}`,
        requestId: null,
      },
      exportContracts: [],
      importContracts: [],
      funds: 0n,
    });
    step(name);
  }

  const miners: { id: string; script: Uint8Array; region: string }[] = [];
  for (let i = 0; i < profile.miners; i++) {
    const spec = MINERS[i % MINERS.length]!;
    const m = await registry.registerParticipant(SUPERVISOR, {
      kind: 'miner',
      legalName: spec.name,
      country: JURISDICTION.country,
    });
    await registry.grantLicence(SUPERVISOR, {
      participantId: m.id,
      kind: 'mining',
      scope: `industrial mining, ${spec.region}`,
      validFrom: new Date(from.getTime() - 60 * DAY_MS).toISOString(),
      validTo: new Date(from.getTime() + 3 * 365 * DAY_MS).toISOString(),
    });
    const minerCaller: Caller = {
      role: 'miner',
      participantId: m.id,
      platformId: null,
      actorId: `demo:user@${m.id}`,
      personId: `demo:user@${m.id}`,
      requestId: null,
    };
    const site = await mining.registerSite(minerCaller, {
      regionCode: spec.region,
      name: `${spec.name.split(' ')[0] ?? 'Main'} site 1`,
      gridConnection: `66 kV substation ${spec.region}-${i + 1}`,
      powerCapacityMw: String(5 + random.int(0, 40)),
      declaredHashrateThs: String(100_000 + random.int(0, 400_000)),
      commissioningDate: new Date(from.getTime() - 200 * DAY_MS).toISOString().slice(0, 10),
    });
    const key = demoKey(`miner pool ${i}`);
    await mining.registerPayoutAddress(minerCaller, site.id, {
      address: key.address,
      // Simnet's blocks pay the coinbase straight to the miner: solo, in the registry's terms.
      kind: 'solo',
    });
    miners.push({ id: m.id, script: key.script, region: spec.region });
    step(spec.name);
  }

  // ---------------------------------------------------------------- logins
  const loginTargets: Record<
    Role,
    { participantId: string; platformId: string | null; who: string }
  > = {
    supervisor: { participantId: SCHEME_PARTICIPANT_ID, platformId: null, who: 'the supervisor' },
    auditor: { participantId: SCHEME_PARTICIPANT_ID, platformId: null, who: 'the auditor' },
    platform: {
      participantId: platforms[0]!.id,
      platformId: platforms[0]!.id,
      who: platforms[0]!.name,
    },
    company: {
      participantId: companies[0]!.id,
      platformId: companies[0]!.platform.id,
      who: companies[0]!.name,
    },
    miner: { participantId: miners[0]!.id, platformId: null, who: MINERS[0].name },
  };
  const logins: DemoLogin[] = [];
  const loginCallers = new Map<string, Caller>();
  for (const login of DEMO_LOGINS) {
    const target = loginTargets[login.role];
    const user = await users.create(SUPERVISOR, {
      username: login.username,
      displayName: `Demo ${login.role}${login.username === login.role ? '' : ', second officer'} (${target.who})`,
      password: login.password,
      role: login.role,
      participantId: target.participantId,
      platformId: target.platformId,
    });
    logins.push({ ...login, who: target.who });
    loginCallers.set(login.username, {
      role: login.role,
      participantId: user.participantId,
      platformId: user.platformId,
      actorId: user.id,
      personId: user.id,
      requestId: null,
    });
  }

  // ---------------------------------------------------------------- contracts
  progress.phase('registering trade contracts', companies.length);
  let contractCount = 0;
  const activate = async (platform: PlatformActor, id: string) => {
    // Four eyes: the maker creates and submits, another officer approves.
    await trade.contracts.transition(platform.officers.maker, id, 'submit');
    await trade.contracts.transition(platform.officers['officer-a'], id, 'approve');
    await trade.contracts.transition(platform.officers.maker, id, 'activate');
    contractCount++;
  };
  // Every caught counterparty gets a contract with a company of its own platform (in turn): the
  // listed address as a supplier (a payout to it), the others as buyers (an invoice from them).
  const caughtTurn = new Map<string, number>();
  const caughtOf = new Map<CompanyActor, PartyActor[]>();
  for (const party of caught) {
    const candidates = companies.filter((c) => c.platform.id === party.platformId);
    if (candidates.length === 0) continue;
    const turn = caughtTurn.get(party.platformId) ?? 0;
    caughtTurn.set(party.platformId, turn + 1);
    const company = candidates[turn % candidates.length]!;
    caughtOf.set(company, [...(caughtOf.get(company) ?? []), party]);
  }
  const isSupplier = (p: PartyActor) => p.spec.role === 'listedAddress';
  // A company contracts only with counterparties its own platform registered (and vouches for).
  const ofPlatform = (pool: PartyActor[], company: CompanyActor) => {
    const own = pool.filter((p) => p.platformId === company.platform.id);
    if (own.length === 0) throw new Error(`the demo cast gives ${company.platform.id} no party`);
    return own;
  };
  for (const [i, company] of companies.entries()) {
    const platformBuyers = ofPlatform(ordinaryBuyers, company);
    const buyers = [
      ...new Set([
        platformBuyers[i % platformBuyers.length]!,
        platformBuyers[(i + 1) % platformBuyers.length]!,
      ]),
    ];
    // Every other company also has a contract with one of the caught counterparties: trade
    // registers it, screening stops the money.
    buyers.push(...(caughtOf.get(company) ?? []).filter((p) => !isSupplier(p)));
    for (const buyer of buyers) {
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
        schedule: [
          {
            dueDate: new Date(from.getTime() + (profile.days + 60) * DAY_MS)
              .toISOString()
              .slice(0, 10),
            amount: '5000000.00',
          },
        ],
      });
      await trade.contracts.transition(company.caller, contract.id, 'submit');
      for (const action of ['approve', 'activate'] as const)
        await trade.contracts.transition(company.platform.officers.maker, contract.id, action);
      contractCount++;
      company.exportContracts.push({ id: contract.id, counterparty: buyer });
    }
    const platformSuppliers = ofPlatform(ordinarySuppliers, company);
    const suppliers = [platformSuppliers[i % platformSuppliers.length]!];
    suppliers.push(...(caughtOf.get(company) ?? []).filter(isSupplier));
    for (const supplier of suppliers) {
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
        schedule: [
          {
            dueDate: new Date(from.getTime() + (profile.days + 60) * DAY_MS)
              .toISOString()
              .slice(0, 10),
            amount: '5000000000',
          },
        ],
      });
      await activate(company.platform, contract.id);
      company.importContracts.push({
        id: contract.id,
        counterparty: supplier,
        address: supplier.address,
      });
    }
    progress.update(i + 1, company.name);
  }

  // ---------------------------------------------------------------- the chain
  const replay = new Replay(ports, random, progress, profile.blockHours);
  await replay.fundBuyers(miners);

  let rate = 60_000 + random.int(-3_000, 3_000);
  let invoicesPaid = 0;
  let payouts = 0;
  let batches = 0;
  let reorgs = 0;
  let suspended: string | null = null;
  const suspendDay = Math.floor(profile.days * 0.6);
  const reorgDays = new Set([Math.floor(profile.days * 0.3), Math.floor(profile.days * 0.7)]);
  const structurer = companies[1 % companies.length]!;
  const passThrough = companies[2 % companies.length]!;
  const structuringDay = Math.floor(profile.days * 0.4);
  const passThroughDay = Math.floor(profile.days * 0.5);

  /**
   * Trade passes every invoice and payout through compliance's policy gate itself; the demo only
   * supplies the IVMS101 data a platform would, and counts what the gate blocked (the transfer is
   * kept cancelled or invalid, with its reasons).
   */
  const travelRule = (
    direction: 'inbound' | 'outbound',
    company: CompanyActor,
    party: PartyActor,
  ) =>
    demoTravelRule(registry, {
      direction,
      platformId: company.platform.id,
      companyId: company.id,
      counterpartyId: party.id,
    });
  const wasBlocked = (error: unknown) => {
    // A payout to an address of another network (the listed mainnet address on simnet) is
    // refused as input before it reaches the gate (not a gate decision).
    if (
      error instanceof AppError &&
      (error.code === 'TRANSFER_BLOCKED' || error.code === 'INVALID_ADDRESS')
    ) {
      return true;
    }
    return false;
  };

  const payInvoice = async (
    company: CompanyActor,
    contract: CompanyActor['exportContracts'][number],
    usd: number,
  ) => {
    const amount = `${usd}.00`;
    let invoice;
    try {
      invoice = await trade.invoices.create(company.caller, {
        contractId: contract.id,
        amount,
        travelRule: await travelRule('inbound', company, contract.counterparty),
      });
    } catch (error) {
      if (wasBlocked(error)) return false;
      throw error;
    }
    await replay.buyers.pay(invoice.address, invoice.amountSats);
    company.funds += invoice.amountSats;
    invoicesPaid++;
    return true;
  };

  const requestPayout = async (company: CompanyActor, share: number) => {
    const contract = company.importContracts[random.int(0, company.importContracts.length - 1)];
    if (!contract) return;
    const amountSats = (company.funds * BigInt(share)) / 100n;
    if (amountSats < 100_000n) return;
    let payout;
    try {
      payout = await trade.payouts.create(company.platform.officers.maker, {
        contractId: contract.id,
        amount: amountSats.toString(),
        address: contract.address,
        travelRule: await travelRule('outbound', company, contract.counterparty),
      });
    } catch (error) {
      if (wasBlocked(error)) return;
      throw error;
    }
    company.funds -= amountSats;
    payouts++;
    // A payout the gate sent to review waits for a compliance officer (the tour shows it).
    if (payout.status !== 'awaitingApproval') return;
    // The gate decides again at approval: a payout that no longer passes is held there.
    try {
      await trade.payouts.approve(company.platform.officers['officer-a'], payout.id);
      if (payout.requiredApprovals > 1)
        await trade.payouts.approve(company.platform.officers['officer-b'], payout.id);
    } catch (error) {
      if (!wasBlocked(error)) throw error;
    }
  };

  // On the first day each caught counterparty's company tries once to trade with it, so the
  // tour always has the stops to show (the gate, or the address check, refuses every one).
  ports.rateDesk.set('USD', `${rate}.00`);
  for (const [company, parties] of caughtOf) {
    for (const party of parties) {
      if (isSupplier(party)) {
        const contract = company.importContracts.find((c) => c.counterparty === party)!;
        try {
          await trade.payouts.create(company.platform.officers.maker, {
            contractId: contract.id,
            amount: '1000000',
            address: contract.address,
            travelRule: await travelRule('outbound', company, party),
          });
          throw new Error(`the demo's payout to ${party.spec.name} was not stopped`);
        } catch (error) {
          if (!wasBlocked(error)) throw error;
        }
      } else {
        const contract = company.exportContracts.find((c) => c.counterparty === party)!;
        if (await payInvoice(company, contract, 12_000)) {
          throw new Error(`the demo's invoice from ${party.spec.name} was not stopped`);
        }
      }
    }
  }

  const blocksPerDay = Math.round(24 / profile.blockHours);
  // The block of the day the money-laundering patterns run in: the second when there is one (the
  // full size mines one block a day, so the patterns run in it).
  const patternBlock = Math.min(1, blocksPerDay - 1);
  progress.phase(`replaying ${profile.days} days of activity`, profile.days);
  for (let day = 0; day < profile.days; day++) {
    rate = Math.max(20_000, rate + random.int(-1_200, 1_250));
    ports.rateDesk.set('USD', `${rate}.00`);
    if (day === suspendDay && platforms.length > 2) {
      const target = platforms[platforms.length - 1]!;
      await registry.changeLicenceStatus(
        SUPERVISOR,
        target.licenceId,
        'suspended',
        'capital requirement breached; remediation plan requested',
      );
      suspended = target.name;
    }
    for (let b = 0; b < blocksPerDay; b++) {
      // Invoices of the day, spread over its blocks.
      for (const company of companies) {
        if (random.next() >= profile.invoicesPerCompanyPerWeek / 7 / blocksPerDay) continue;
        const contract =
          company.exportContracts[random.int(0, company.exportContracts.length - 1)]!;
        await payInvoice(company, contract, 2_000 + random.int(0, 40) * 500);
      }
      if (b === patternBlock && day === structuringDay) {
        // Structuring: three receipts just under the 10,000 USD reporting line within 72 hours.
        for (let k = 0; k < 3; k++)
          await payInvoice(structurer, structurer.exportContracts[0]!, 9_400 + random.int(0, 500));
      }
      if (b === patternBlock && day === passThroughDay) {
        // Pass-through: a large receipt paid straight out again within two hours.
        await payInvoice(passThrough, passThrough.exportContracts[0]!, 60_000);
        await replay.mine(miners, 2, 20 * 60_000);
        await requestPayout(passThrough, 90);
      }
      await replay.mine(miners, 1, profile.blockHours * HOUR_MS);
    }
    // Payouts of the day: some companies pay suppliers, then every platform runs its batch.
    for (const company of companies) {
      if (random.next() < profile.payoutChancePerDay)
        await requestPayout(company, 20 + random.int(0, 30));
    }
    for (const platform of platforms) {
      const batch = await runBatchWhenFunded(trade, platform.officers.maker, platform.id);
      if (batch) batches++;
    }
    if (reorgDays.has(day)) {
      await replay.reorg(miners);
      reorgs++;
    }
    progress.update(day + 1, `height ${ports.simnet.height}, rate ${rate} USD/BTC`);
  }
  // Confirm what is still in flight.
  await replay.mine(miners, 3, HOUR_MS);
  await runBatchWhenFunded(trade, platforms[0]!.officers.maker, platforms[0]!.id);
  await replay.mine(miners, 3, HOUR_MS);
  // Mined coins change hands (a path for the provenance explorer): miners sell to a desk, which
  // pays a foreign buyer.
  await sellMinedCoins(
    ports.simnet,
    mining,
    miners.map((m, i) => ({ ...m, keyLabel: `miner pool ${i}` })),
    () => replay.mine(miners, 1, HOUR_MS),
  );

  // A supervisor takes the structuring case on (else the first): the guided tour follows it.
  const ofStructurer = await compliance.cases.list(
    SUPERVISOR,
    { partyId: structurer.id },
    { limit: 1 },
  );
  const [firstCase] =
    ofStructurer.items.length > 0
      ? ofStructurer.items
      : (await compliance.cases.list(SUPERVISOR, {}, { limit: 1 })).items;
  // Assigned to a person, the `supervisor` login's user, who writes the note.
  const supervisorLogin = loginCallers.get('supervisor');
  if (firstCase && supervisorLogin) {
    await compliance.cases.update(supervisorLogin, firstCase.id, {
      assignee: supervisorLogin.personId,
      note: 'Receipts just under the reporting threshold; requested invoices and bills of lading.',
    });
  }
  // The tour's maker-checker step: a payout the `platform` login made, awaiting the approval of
  // another officer (the `platform2` login); its maker cannot approve it.
  const tourCompany = companies[0]!;
  const tourSupplier = tourCompany.importContracts.find(
    (c) => c.counterparty.spec.role === 'supplier',
  );
  if (tourSupplier) {
    await trade.payouts.create(loginCallers.get('platform')!, {
      contractId: tourSupplier.id,
      amount: '250000',
      address: tourSupplier.address,
      travelRule: await travelRule('outbound', tourCompany, tourSupplier.counterparty),
      memo: 'Spare parts, second instalment (awaiting a second officer)',
    });
    payouts++;
  }
  progress.done();
  const decisionCounts = await compliance.decisions.counts();
  return {
    size: options.size,
    seed: options.seed,
    from,
    to: clock.now(),
    blocks: ports.simnet.height,
    reorgs,
    contracts: contractCount,
    invoicesPaid,
    payouts,
    batches,
    // What the gate blocked, as compliance recorded it (payouts to the listed mainnet address are
    // refused as bad input on simnet before the gate, and not counted).
    blockedTransfers: decisionCounts.blocked,
    gateDecisions: decisionCounts.total,
    licenceSuspended: suspended,
    logins,
  };
}

/** The chain side of the replay: buyers' coins, blocks paying miners, reorgs. */
class Replay {
  readonly buyers: BuyerWallet;
  readonly outsider = demoKey('foreign pool');

  constructor(
    readonly ports: DemoPorts,
    readonly random: SeededRandom,
    readonly progress: DemoProgress,
    readonly blockHours: number,
  ) {
    this.buyers = new BuyerWallet(ports.simnet);
  }

  /** 120 blocks to the buyers' wallet (their coinbases mature), split into many coins. */
  async fundBuyers(miners: readonly { script: Uint8Array }[]): Promise<void> {
    this.progress.phase('mining the first blocks (funding the foreign buyers)', 121);
    for (let i = 0; i < 120; i++) {
      await this.ports.simnet.mine(1, this.buyers.key.script);
      this.ports.clock.advance(60_000);
      if (i % 10 === 9) {
        await this.ports.watcher.syncOnce();
        this.progress.update(i + 1);
      }
    }
    this.buyers.load();
    await this.buyers.split(20, 10);
    await this.mine(miners, 1, 60_000);
    this.progress.update(121);
  }

  /** Mines `count` blocks `stepMs` apart, mostly to registered miners' pools, and follows them. */
  async mine(
    miners: readonly { script: Uint8Array }[],
    count: number,
    stepMs: number,
  ): Promise<void> {
    for (let i = 0; i < count; i++) {
      const payTo =
        miners.length > 0 && this.random.next() < 0.75
          ? miners[this.random.int(0, miners.length - 1)]!.script
          : this.outsider.script;
      await this.ports.simnet.mine(1, payTo);
      await this.ports.watcher.syncOnce();
      this.ports.clock.advance(stepMs);
    }
  }

  /** A one-block reorganization: the tip is replaced by a longer branch of two blocks. */
  async reorg(miners: readonly { script: Uint8Array }[]): Promise<void> {
    const tip = this.ports.simnet.tip();
    await this.ports.simnet.invalidateBlock(tip.hash);
    await this.mine(miners, 2, 10 * 60_000);
  }
}
