import { AppError, systemCaller, type Caller } from '../../kernel';
import { fiatPayee, type DealView, type LotView } from '../../clearing';
import { payFromCoins } from '../miner-sales';
import { demoKey } from '../wallet';
import type { Replay } from './replay';
import { seedSettlementAddresses } from './settlement-addresses';
import {
  HOUR_MS,
  SUPERVISOR,
  type CompanyActor,
  type DemoPorts,
  type DemoProgress,
  type MinerActor,
  type PlatformActor,
  type Scheme,
} from './types';

/**
 * The loop of domestically mined coins, seeded at the end of the replay (issue 13): the
 * supervisor fixes the reference rate from the manual desk (the single-source flag, with its
 * reason) and sets a settlement window schedule; the two platforms register where the clearing
 * pays them (settlement addresses, four eyes); a registered miner offers coins of a cleared lot
 * on the market the first platform runs and deposits them into escrow; an importer of the second
 * platform bids for its import contract; the market's officer matches them at the day's fixing;
 * the importer's bank pays the miner (the simulated bank), the coins are delivered to the
 * importer's wallet and settle; the supervisor releases a lot quarantined for being mined inside
 * a regional ban. Everything goes through the services and callers the API uses.
 */

/** The market's currency: the demo's contracts and rate desk are in US dollars. */
const CURRENCY = 'USD';
const COIN = 100_000_000n;
/** Coins the miner offers, and the importer buys (a deal smaller than the offer). */
const OFFERED = 5n * COIN;
const BOUGHT = 2n * COIN;
/** An account of the platform's key no company wallet uses (those take account i < 1000). */
const ESCROW_ACCOUNT = 1000;
const MATURITY = 100;

export interface LoopSeeded {
  readonly dealId: string;
  readonly releasedLotId: string;
}

interface LoopSeeding {
  readonly ports: DemoPorts;
  readonly scheme: Scheme;
  readonly replay: Replay;
  readonly progress: DemoProgress;
}

function minerCaller(miner: MinerActor): Caller {
  return {
    role: 'miner',
    participantId: miner.id,
    platformId: null,
    actorId: `demo:user@${miner.id}`,
    personId: `demo:user@${miner.id}`,
    requestId: null,
  };
}

/** The watch-only descriptor of the market platform's escrow wallet (its sealed key's account). */
function escrowDescriptor(platform: PlatformActor): string {
  const signer = platform.signer;
  const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
  const account = `m/84'/1'/${ESCROW_ACCOUNT}'`;
  return `wpkh([${fingerprint}/84h/1h/${ESCROW_ACCOUNT}h]${signer.accountXpub(account)}/0/*)`;
}

export async function seedClearingLoop(seeding: LoopSeeding): Promise<LoopSeeded> {
  const { ports, scheme, replay, progress } = seeding;
  const { market, settlementWindows } = ports.services;
  progress.phase('the loop of mined coins (market, fixing, windows, release)', 5);
  // The market runs at the first platform; the importer is a company of the second. (The last
  // platform's licence is suspended during the replay.)
  const [marketPlatform, importerPlatform] = scheme.platforms;
  const importer = scheme.companies.find(
    (c) => c.platform.id === importerPlatform?.id && c.importContracts.length > 0,
  );
  if (!marketPlatform || !importerPlatform || !importer)
    throw new Error('the demo cast has no two platforms with an importer for the market');

  // Windows every hour, pay-ins within 30 minutes: the first window closes during the seeding,
  // the next ones while the server runs (the `clearing.windows` job).
  await settlementWindows.setSchedule(SUPERVISOR, {
    periodMinutes: 60,
    payInMinutes: 30,
    reason: 'demo scheme: hourly settlement windows, pay-in within 30 minutes',
  });
  await settlementWindows.runDue();
  // Where the clearing pays the two platforms of the loop (four eyes, proven by BIP322).
  await seedSettlementAddresses(ports, [marketPlatform, importerPlatform]);
  progress.update(1, 'settlement window schedule and settlement addresses');

  // The miner (not the `miner` login's, whose sold coins the explorer shows) offers coins of a
  // cleared, mature lot and deposits them into the market's escrow.
  const { miner, index, lot } = await offerableLot(ports, scheme.miners);
  const seller = minerCaller(miner);
  await market.setSettings(marketPlatform.officers.maker, {
    currency: CURRENCY,
    spreadBasisPoints: 100,
    deadlineSeconds: 24 * 3600,
    escrowDescriptor: escrowDescriptor(marketPlatform),
  });
  const offer = await market.createOffer(seller, {
    platformId: marketPlatform.id,
    lotId: lot.id,
    amountSats: OFFERED,
  });
  const deposit = await payFromCoins(
    ports.simnet,
    demoKey(`miner pool ${index}`).secret,
    miner.script,
    [{ txid: lot.txid, vout: lot.vout, value: lot.valueSats }],
    offer.escrowAddress,
    OFFERED,
  );
  await replay.mine(1, HOUR_MS);
  await market.recordDeposit(seller, offer.id, deposit);
  progress.update(2, 'offer funded in escrow');

  // The reference rate: the manual desk is the demo's one source, which the rule must say.
  const deal = await matchAtFixing(ports, marketPlatform, importer, offer.id);
  progress.update(3, 'deal matched at the fixing');

  // The importer pays the fiat leg to its own platform (a deal between two platforms: that
  // platform then owes the market's, netted in the settlement window); the market confirms the
  // payment and delivers.
  const bank = ports.bank;
  bank.deposit(importer.id, deal.fiatMinor, CURRENCY);
  bank.transfer({
    from: importer.id,
    to: fiatPayee(deal),
    amountMinor: deal.fiatMinor,
    currency: CURRENCY,
    dealReference: deal.id,
  });
  await market.tick();
  await replay.mine(1, HOUR_MS);
  await market.tick();
  const settled = await market.getDeal(SUPERVISOR, deal.id);
  if (settled.status !== 'settled')
    throw new Error(`the demo's market deal did not settle (${settled.status})`);
  progress.update(4, 'coins delivered against payment');

  // A lot quarantined for the ban, released by the supervisor after review.
  const released = await releaseQuarantined(ports, miner);
  await replay.mine(1, HOUR_MS);
  const { closed } = await settlementWindows.runDue();
  await payInFiat(ports, closed);
  progress.update(5, 'quarantined lot released, settlement window paid in');
  return { dealId: deal.id, releasedLotId: released };
}

/** A second supervisor: a fiat pay-in counts once two persons confirmed it (four eyes). */
const SECOND_SUPERVISOR = systemCaller('demo.seed.second-supervisor');

/**
 * The net payers' fiat pay-ins of the windows the seed closed, as the central bank's statement
 * shows them: recorded by one supervisor, confirmed by another with the same amount and
 * reference, so the windows settle.
 */
async function payInFiat(ports: DemoPorts, windowIds: readonly string[]): Promise<void> {
  const windows = ports.services.settlementWindows;
  for (const windowId of windowIds) {
    const { items } = await windows.listPayIns(SUPERVISOR, windowId, { limit: 500 });
    for (const payIn of items) {
      if (payIn.asset === 'BTC' || payIn.status !== 'awaiting') continue;
      const payment = {
        amount: payIn.amountDue,
        currency: payIn.asset,
        bankReference: `DEMO-${windowId.slice(-8)}-${payIn.platformId.slice(-6)}`,
      };
      await windows.confirmFiatPayIn(SUPERVISOR, windowId, payIn.platformId, payment);
      await windows.confirmFiatPayIn(SECOND_SUPERVISOR, windowId, payIn.platformId, payment);
    }
  }
}

/** The first miner (after the `miner` login's) with a cleared lot whose coinbase has matured. */
async function offerableLot(
  ports: DemoPorts,
  miners: readonly MinerActor[],
): Promise<{ miner: MinerActor; index: number; lot: LotView }> {
  const height = ports.simnet.height;
  const order = [...miners.keys()].sort((a, b) => (a === 0 ? 1 : 0) - (b === 0 ? 1 : 0));
  for (const index of order) {
    const miner = miners[index]!;
    const { items } = await ports.services.clearing.listLots(
      SUPERVISOR,
      { status: 'cleared', minerId: miner.id },
      { limit: 500 },
    );
    const lot = items
      .filter((l) => height + 1 - l.height >= MATURITY && l.valueSats > OFFERED)
      .sort((a, b) => a.height - b.height)[0];
    if (lot) return { miner, index, lot };
  }
  throw new Error('no registered miner has a mature cleared lot to offer');
}

/**
 * The supervisor's fixing rule (the desk alone, flagged) and today's fixing; the importer bids
 * for its import contract and the market platform's officer matches the bid with the offer.
 */
async function matchAtFixing(
  ports: DemoPorts,
  marketPlatform: PlatformActor,
  importer: CompanyActor,
  offerId: string,
): Promise<DealView> {
  const { market, rates } = ports.services;
  const fixings = rates.fixings;
  if (!fixings) throw new Error('the demo platform has no reference-rate fixings');
  await fixings.setSettings(SUPERVISOR, {
    cutoffTime: '16:00',
    currencies: [CURRENCY],
    sources: ['manual'],
    minSources: 1,
    maxDeviationBps: 200,
    singleSource: { reason: 'demo scheme: the manual rate desk is its only source' },
  });
  try {
    await fixings.publish(SUPERVISOR, { quote: CURRENCY });
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'FIXING_ALREADY_PUBLISHED')) throw error;
  }
  const contract = importer.importContracts[0]!;
  const bid = await market.createBid(importer.caller, {
    platformId: marketPlatform.id,
    contractId: contract.id,
    amountSats: BOUGHT,
  });
  return market.match(marketPlatform.officers['officer-a'], { offerId, bidId: bid.id });
}

/** Releases the seller's oldest unspent lot quarantined for the ban (else any miner's). */
async function releaseQuarantined(ports: DemoPorts, miner: MinerActor): Promise<string> {
  const { clearing } = ports.services;
  const quarantined = async (minerId?: string) =>
    (await clearing.listLots(SUPERVISOR, { status: 'quarantined', minerId }, { limit: 500 })).items
      .filter((l) => l.quarantineReason === 'MINED_IN_BAN')
      .sort((a, b) => a.height - b.height)[0];
  const lot = (await quarantined(miner.id)) ?? (await quarantined());
  if (!lot) throw new Error('no lot was quarantined for the ban to release');
  await clearing.release(
    SUPERVISOR,
    lot.id,
    'site inspected: the ban covered the grid feeder, not this site’s own hydro plant',
  );
  return lot.id;
}
