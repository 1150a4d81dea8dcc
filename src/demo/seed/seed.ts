import { SeededRandom, type Caller } from '../../kernel';
import type { RegistryService } from '../../registry';
import { runBatchWhenFunded } from '../batch';
import { SIZES } from '../cast';
import { sellMinedCoins } from '../miner-sales';
import { registerContracts } from './contracts';
import { replayDays, structurerOf } from './days';
import { TradeFlows } from './flows';
import { importSanctionsLists } from './lists';
import { createLogins } from './logins';
import { seedClearingLoop } from './loop';
import { Replay } from './replay';
import { registerScheme } from './scheme';
import {
  DAY_MS,
  HOUR_MS,
  SUPERVISOR,
  silentProgress,
  type DemoOptions,
  type DemoPorts,
  type DemoSummary,
  type Scheme,
} from './types';

/** Whether the database already holds a scheme (a later start reuses it). */
export async function isSeeded(registry: RegistryService): Promise<boolean> {
  return (await registry.getSchemeJurisdiction()) !== null;
}

/** Where the replay starts for a run that ends now: `days` before today's midnight (UTC). */
export function replayStart(days: number, now: Date): Date {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - days * DAY_MS);
}

/**
 * Seeds the demo scheme and replays its activity on simnet at accelerated time: the caller's
 * ManualClock starts at the replay's first day and ends at its last; simnet's block times follow
 * it. Deterministic for a given seed, size and start.
 */
export async function seedDemo(ports: DemoPorts, options: DemoOptions): Promise<DemoSummary> {
  const profile = SIZES[options.size];
  const random = new SeededRandom(options.seed);
  const progress = options.progress ?? silentProgress;
  const { mining, compliance, trade, users } = ports.services;
  const from = ports.clock.now();

  await importSanctionsLists(compliance, options.sanctionsDir, progress);
  const scheme = await registerScheme(ports, profile, random, progress, from);
  const { logins, callers } = await createLogins(users, scheme);
  const contracts = await registerContracts(trade, scheme, random, { profile, from, progress });

  // The chain: the buyers' coins first, then the days of trade.
  const replay = new Replay(ports, random, progress, scheme.miners);
  await replay.fundBuyers();
  const rate = 60_000 + random.int(-3_000, 3_000);
  const flows = new TradeFlows(ports, random, replay);
  ports.rateDesk.set('USD', `${rate}.00`);
  await flows.tryCaught(contracts.caughtOf);
  const days = await replayDays({ ports, random, progress, profile, scheme, flows, replay }, rate);
  // Confirm what is still in flight.
  const first = scheme.platforms[0]!;
  await replay.mine(3, HOUR_MS);
  await runBatchWhenFunded(trade, first.officers.maker, first.id);
  await replay.mine(3, HOUR_MS);
  // Mined coins change hands (a path for the provenance explorer): miners sell to a desk, which
  // pays a foreign buyer.
  await sellMinedCoins(
    ports.simnet,
    mining,
    scheme.miners.map((m, i) => ({ ...m, keyLabel: `miner pool ${i}` })),
    () => replay.mine(1, HOUR_MS),
  );
  // The loop of mined coins: sold on a market between two platforms at the day's fixing,
  // delivered against payment; a lot quarantined for the ban released; windows scheduled.
  const loop = await seedClearingLoop({ ports, scheme, replay, progress });
  await setUpTour(ports, scheme, flows, callers.get('platform')!, callers.get('supervisor'));
  progress.done();
  const decisionCounts = await compliance.decisions.counts();
  return {
    size: options.size,
    seed: options.seed,
    from,
    to: ports.clock.now(),
    blocks: ports.simnet.height,
    reorgs: days.reorgs,
    contracts: contracts.count,
    invoicesPaid: flows.invoicesPaid,
    payouts: flows.payouts,
    batches: days.batches,
    // What the gate blocked, as compliance recorded it (payouts to the listed mainnet address are
    // refused as bad input on simnet before the gate, and not counted).
    blockedTransfers: decisionCounts.blocked,
    gateDecisions: decisionCounts.total,
    licenceSuspended: days.suspended,
    marketDeal: loop.dealId,
    releasedLot: loop.releasedLotId,
    logins,
  };
}

/**
 * What the guided tour follows: a supervisor takes the structuring case on (else the first), and
 * the `platform` login leaves a payout for the second officer to approve.
 */
async function setUpTour(
  ports: DemoPorts,
  scheme: Scheme,
  flows: TradeFlows,
  platformLogin: Caller,
  supervisorLogin: Caller | undefined,
): Promise<void> {
  const { compliance } = ports.services;
  const ofStructurer = await compliance.cases.list(
    SUPERVISOR,
    { partyId: structurerOf(scheme).id },
    { limit: 1 },
  );
  const [firstCase] =
    ofStructurer.items.length > 0
      ? ofStructurer.items
      : (await compliance.cases.list(SUPERVISOR, {}, { limit: 1 })).items;
  // Assigned to a person, the `supervisor` login's user, who writes the note.
  if (firstCase && supervisorLogin) {
    await compliance.cases.update(supervisorLogin, firstCase.id, {
      assignee: supervisorLogin.personId,
      note: 'Receipts just under the reporting threshold; requested invoices and bills of lading.',
    });
  }
  await flows.leaveForSecondOfficer(platformLogin, scheme.companies[0]!);
}
