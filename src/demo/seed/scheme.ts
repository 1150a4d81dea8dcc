import { LocalKeySigner } from '../../bitcoin';
import { leiCheckDigits, type Caller, type SeededRandom } from '../../kernel';
import {
  companyName,
  counterparties,
  JURISDICTION,
  LISTED_XBT_ADDRESS,
  MINERS,
  PLATFORMS,
  REFUSED_JURISDICTION,
  REGION_TIME_ZONE,
  REGIONS,
  type CounterpartySpec,
  type SizeProfile,
} from '../cast';
import { demoKey } from '../wallet';
import {
  DAY_MS,
  SUPERVISOR,
  type CompanyActor,
  type DemoPorts,
  type DemoProgress,
  type MinerActor,
  type PartyActor,
  type PlatformActor,
  type Scheme,
} from './types';

/**
 * The registry side of the seeding: the scheme's jurisdiction and regions (three under a seasonal
 * mining ban), the licensed platforms with their signing keys and settings, the foreign
 * counterparties at their VASPs, the companies with their wallets, and the miners with a site each.
 */

interface SchemeSeeding {
  readonly ports: DemoPorts;
  readonly profile: SizeProfile;
  readonly random: SeededRandom;
  /** The replay's first instant: licences, sites and bans are dated from it. */
  readonly from: Date;
  /** Counts one more registration on the progress bar. */
  readonly step: (detail: string) => void;
}

const monthDay = (d: Date) =>
  `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;

/** Registers everyone who takes part, in the order the progress bar counts them. */
export async function registerScheme(
  ports: DemoPorts,
  profile: SizeProfile,
  random: SeededRandom,
  progress: DemoProgress,
  from: Date,
): Promise<Scheme> {
  const specs = counterparties(profile.counterparties);
  progress.phase(
    'registering the scheme',
    REGIONS.length + profile.platforms + profile.companies + specs.length + profile.miners,
  );
  let registered = 0;
  const seeding: SchemeSeeding = {
    ports,
    profile,
    random,
    from,
    step: (detail) => progress.update(++registered, detail),
  };
  await registerJurisdictions(seeding);
  const platforms = await registerPlatforms(seeding);
  const parties = await registerCounterparties(seeding, specs, platforms);
  const companies = await registerCompanies(seeding, platforms);
  const miners = await registerMiners(seeding);
  return { platforms, parties, companies, miners };
}

/** The scheme's jurisdiction, a refused one, and the regions with their seasonal bans. */
async function registerJurisdictions({ ports, profile, from, step }: SchemeSeeding) {
  const { registry, mining } = ports.services;
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
}

/** Verifies a participant's KYC as the supervisor, with a review due in two years. */
function verify({ ports, from }: SchemeSeeding, id: string) {
  const reviewDue = new Date(from.getTime() + 2 * 365 * DAY_MS).toISOString().slice(0, 10);
  return ports.services.registry.setKyc(SUPERVISOR, id, {
    status: 'verified',
    riskRating: 'low',
    reviewDue,
    beneficialOwners: [],
    documents: [
      { type: 'certificate of incorporation', number: `REG-${id.slice(-8)}`, issuer: 'registry' },
    ],
  });
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

/** The licensed platforms, each with its sealed signing key and its settings. */
async function registerPlatforms({ ports, profile, random, from, step }: SchemeSeeding) {
  const { registry, trade } = ports.services;
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
    platforms.push({
      id: p.id,
      name,
      licenceId: licence.id,
      officers: {
        maker: platformOfficer(p.id, 'maker'),
        'officer-a': platformOfficer(p.id, 'officer-a'),
        'officer-b': platformOfficer(p.id, 'officer-b'),
      },
      signer: LocalKeySigner.fromSeed(seed, 'regtest'),
    });
    step(name);
  }
  return platforms;
}

/**
 * The foreign counterparties, each registered by a platform; hosted addresses are held at
 * registered foreign VASPs (one licensed exchange per country).
 */
async function registerCounterparties(
  seeding: SchemeSeeding,
  specs: readonly CounterpartySpec[],
  platforms: readonly PlatformActor[],
) {
  const { registry } = seeding.ports.services;
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
  const parties: PartyActor[] = [];
  const ordinaryCount = specs.filter((p) => p.role === 'buyer' || p.role === 'supplier').length;
  for (const [i, spec] of specs.entries()) {
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
    if (spec.role !== 'listedName') await verify(seeding, p.id);
    const own = demoKey(`counterparty ${i}`).address;
    if (spec.role !== 'listedAddress' && spec.role !== 'listedName') {
      await registry.registerCounterpartyAddress(SUPERVISOR, p.id, {
        address: own,
        ownership: 'hosted',
        vaspId: await vaspOf(spec.country),
      });
    }
    parties.push({
      id: p.id,
      platformId: platform.id,
      spec,
      address: spec.role === 'listedAddress' ? LISTED_XBT_ADDRESS : own,
    });
    seeding.step(spec.name);
  }
  return parties;
}

/** The companies, each with a verified KYC and a wallet under its platform's key. */
async function registerCompanies(seeding: SchemeSeeding, platforms: readonly PlatformActor[]) {
  const { registry } = seeding.ports.services;
  const companies: CompanyActor[] = [];
  for (let i = 0; i < seeding.profile.companies; i++) {
    const platform = platforms[i % platforms.length]!;
    const name = companyName(i);
    const c = await registry.registerParticipant(SUPERVISOR, {
      kind: 'company',
      legalName: name,
      country: JURISDICTION.country,
      platformId: platform.id,
    });
    await verify(seeding, c.id);
    const signer = platform.signer;
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
    seeding.step(name);
  }
  return companies;
}

/** The licensed miners, each with a site in its region and the payout address of its pool. */
async function registerMiners({ ports, profile, random, from, step }: SchemeSeeding) {
  const { registry, mining } = ports.services;
  const miners: MinerActor[] = [];
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
  return miners;
}
