import type { SeededRandom } from '../../kernel';
import { runBatchWhenFunded } from '../batch';
import type { SizeProfile } from '../cast';
import type { TradeFlows } from './flows';
import type { Replay } from './replay';
import { HOUR_MS, SUPERVISOR, type DemoPorts, type DemoProgress, type Scheme } from './types';

/**
 * The replay's days: the USD rate walks, blocks are mined every `blockHours`, companies invoice
 * and pay, every platform runs its batch at the end of the day; on set days a licence is
 * suspended, the chain reorganizes, and the structuring and pass-through patterns run.
 */

export interface DaysReplayed {
  readonly batches: number;
  readonly reorgs: number;
  /** The platform whose licence was suspended, if one was. */
  readonly suspended: string | null;
}

interface DaysSeeding {
  readonly ports: DemoPorts;
  readonly random: SeededRandom;
  readonly progress: DemoProgress;
  readonly profile: SizeProfile;
  readonly scheme: Scheme;
  readonly flows: TradeFlows;
  readonly replay: Replay;
}

export async function replayDays(seeding: DaysSeeding, startRate: number): Promise<DaysReplayed> {
  const { ports, random, progress, profile, scheme, flows, replay } = seeding;
  const { platforms, companies } = scheme;
  let rate = startRate;
  let batches = 0;
  let reorgs = 0;
  let suspended: string | null = null;
  const suspendDay = Math.floor(profile.days * 0.6);
  const reorgDays = new Set([Math.floor(profile.days * 0.3), Math.floor(profile.days * 0.7)]);
  const blocksPerDay = Math.round(24 / profile.blockHours);
  progress.phase(`replaying ${profile.days} days of activity`, profile.days);
  for (let day = 0; day < profile.days; day++) {
    rate = Math.max(20_000, rate + random.int(-1_200, 1_250));
    ports.rateDesk.set('USD', `${rate}.00`);
    if (day === suspendDay && platforms.length > 2) {
      const target = platforms[platforms.length - 1]!;
      await ports.services.registry.changeLicenceStatus(
        SUPERVISOR,
        target.licenceId,
        'suspended',
        'capital requirement breached; remediation plan requested',
      );
      suspended = target.name;
    }
    for (let b = 0; b < blocksPerDay; b++) await replayBlock(seeding, { day, block: b, rate });
    // Payouts of the day: some companies pay suppliers, then every platform runs its batch.
    for (const company of companies) {
      if (random.next() < profile.payoutChancePerDay)
        await flows.requestPayout(company, 20 + random.int(0, 30));
    }
    for (const platform of platforms) {
      const batch = await runBatchWhenFunded(
        ports.services.trade,
        platform.officers.maker,
        platform.id,
      );
      if (batch) batches++;
    }
    if (reorgDays.has(day)) {
      await replay.reorg();
      reorgs++;
    }
    progress.update(day + 1, `height ${ports.simnet.height}, rate ${rate} USD/BTC`);
  }
  return { batches, reorgs, suspended };
}

/** One block of a day: the patterns due in it, the invoices drawn for it, then the block. */
async function replayBlock(
  { random, profile, scheme, flows, replay }: DaysSeeding,
  at: { day: number; block: number; rate: number },
): Promise<void> {
  const { companies } = scheme;
  const blocksPerDay = Math.round(24 / profile.blockHours);
  // The block of the day the money-laundering patterns run in: the second when there is one (the
  // full size mines one block a day, so the patterns run in it).
  const patternBlock = Math.min(1, blocksPerDay - 1);
  const inPatternBlock = (share: number) =>
    at.block === patternBlock && at.day === Math.floor(profile.days * share);
  if (inPatternBlock(0.5)) await flows.passThrough(companies[2 % companies.length]!, at.rate);
  // Invoices of the day, spread over its blocks.
  for (const company of companies) {
    if (random.next() >= profile.invoicesPerCompanyPerWeek / 7 / blocksPerDay) continue;
    const contract = company.exportContracts[random.int(0, company.exportContracts.length - 1)]!;
    await flows.payInvoice(company, contract, 2_000 + random.int(0, 40) * 500);
  }
  if (inPatternBlock(0.4)) await flows.structuring(structurerOf(scheme));
  await replay.mine(1, profile.blockHours * HOUR_MS);
}

/** The company whose receipts make the structuring pattern (the tour follows its case). */
export function structurerOf(scheme: Scheme) {
  return scheme.companies[1 % scheme.companies.length]!;
}
