/**
 * Multilateral netting of a settlement window (pure; no I/O).
 *
 * Domestic obligations between platforms (a market deal whose miner and importer sit at different
 * platforms owes bitcoin one way and local currency the other) accumulate in a window. At cut-off
 * each platform's obligations are replaced by one net position per asset against the clearing:
 * net payers pay in once, the clearing pays net receivers once. This is the central-counterparty
 * form of netting that CLS and the retail payment systems described in BIS CPMI's "Glossary of
 * terms used in payments and settlement systems" (2003) call multilateral netting.
 *
 * Settlement is all-or-nothing per window (payment versus payment): positions settle only when
 * every pay-in they rely on has arrived. A platform that fails to pay in is taken out and its
 * obligations roll to the next window; the others' positions are recomputed without it
 * (`settleWithTakeOut`).
 *
 * Amounts are bigint: sats for 'BTC', minor units for an ISO 4217 currency.
 */

export const BTC = 'BTC';

export interface Obligation {
  readonly id: string;
  /** The platform that owes. */
  readonly from: string;
  /** The platform owed. */
  readonly to: string;
  /** 'BTC' (sats) or an ISO 4217 code (minor units). */
  readonly asset: string;
  /** Strictly positive. */
  readonly amount: bigint;
}

/** A transfer between a platform and the clearing. */
export interface ClearingTransfer {
  readonly participant: string;
  readonly asset: string;
  readonly amount: bigint;
}

export interface SettlementInstructions {
  /** Net payers → clearing, one per (participant, asset) with a negative position. */
  readonly payIns: readonly ClearingTransfer[];
  /** Clearing → net receivers, one per (participant, asset) with a positive position. */
  readonly payOuts: readonly ClearingTransfer[];
}

/** asset → participant → net position (positive: receives from the clearing; negative: pays in). */
export type NetPositions = ReadonlyMap<string, ReadonlyMap<string, bigint>>;

/** Checks an obligation where it enters, naming what is wrong. */
export function checkObligation(obligation: Obligation): void {
  if (obligation.amount <= 0n) {
    throw new RangeError(
      `obligation ${obligation.id}: amount must be positive, got ${obligation.amount}`,
    );
  }
  if (obligation.from === obligation.to) {
    throw new RangeError(`obligation ${obligation.id}: a platform cannot owe itself`);
  }
}

/** Each participant's net position per asset: what it is owed minus what it owes. */
export function netPositions(obligations: Iterable<Obligation>): NetPositions {
  const byAsset = new Map<string, Map<string, bigint>>();
  for (const obligation of obligations) {
    checkObligation(obligation);
    let positions = byAsset.get(obligation.asset);
    if (!positions) {
      positions = new Map();
      byAsset.set(obligation.asset, positions);
    }
    positions.set(obligation.from, (positions.get(obligation.from) ?? 0n) - obligation.amount);
    positions.set(obligation.to, (positions.get(obligation.to) ?? 0n) + obligation.amount);
  }
  return byAsset;
}

/** The transfers that settle the positions: one pay-in per net payer, one pay-out per net receiver. */
export function settlementInstructions(positions: NetPositions): SettlementInstructions {
  const payIns: ClearingTransfer[] = [];
  const payOuts: ClearingTransfer[] = [];
  for (const [asset, byParticipant] of positions) {
    for (const [participant, net] of byParticipant) {
      if (net < 0n) payIns.push({ participant, asset, amount: -net });
      else if (net > 0n) payOuts.push({ participant, asset, amount: net });
    }
  }
  const order = (a: ClearingTransfer, b: ClearingTransfer) =>
    a.asset === b.asset
      ? a.participant < b.participant
        ? -1
        : a.participant > b.participant
          ? 1
          : 0
      : a.asset < b.asset
        ? -1
        : 1;
  return { payIns: payIns.sort(order), payOuts: payOuts.sort(order) };
}

/**
 * Bilateral netting, the reference the multilateral result is measured against: each pair of
 * platforms settles the difference of what they owe each other, per asset.
 */
export function bilateralTransfers(obligations: Iterable<Obligation>): number {
  const pairs = new Map<string, bigint>();
  for (const o of obligations) {
    checkObligation(o);
    const [first, second, sign] = o.from < o.to ? [o.from, o.to, 1n] : [o.to, o.from, -1n];
    const key = `${o.asset}\u0000${first}\u0000${second}`;
    pairs.set(key, (pairs.get(key) ?? 0n) + sign * o.amount);
  }
  let count = 0;
  for (const net of pairs.values()) if (net !== 0n) count++;
  return count;
}

export interface WindowOutcome {
  /** The participants whose positions settle in this window. */
  readonly settled: readonly string[];
  /** Participants taken out for a missing or short pay-in, in the order they were taken out. */
  readonly takenOut: readonly string[];
  /** Obligations that settle now (both sides in `settled`). */
  readonly settling: readonly Obligation[];
  /** Obligations that roll to the next window (a side was taken out). */
  readonly rolled: readonly Obligation[];
  /** The positions of the settling obligations. */
  readonly positions: NetPositions;
  /** Pay-outs to net receivers. */
  readonly payOuts: readonly ClearingTransfer[];
  /**
   * Pay-ins received beyond what the recomputed positions need (a participant taken out, or one
   * whose position shrank when another was taken out): returned to the payer.
   */
  readonly refunds: readonly ClearingTransfer[];
}

/**
 * Settles a window given what each participant actually paid in (asset → participant → amount).
 * A participant whose pay-in does not cover its net payer position in every asset is taken out;
 * its obligations roll and the positions of the rest are recomputed, until every remaining net
 * payer is covered (a fixed point: each round removes at least one participant). Pay-ins beyond
 * the final positions are refunded, so the clearing ends every window flat:
 * Σ pay-ins = Σ pay-outs + Σ refunds, per asset.
 */
export function settleWithTakeOut(
  obligations: readonly Obligation[],
  paidIn: ReadonlyMap<string, ReadonlyMap<string, bigint>>,
): WindowOutcome {
  const takenOut: string[] = [];
  const out = new Set<string>();
  let settling = obligations.slice();
  for (;;) {
    const positions = netPositions(settling);
    const short = new Set<string>();
    for (const [asset, byParticipant] of positions) {
      for (const [participant, net] of byParticipant) {
        if (net < 0n && (paidIn.get(asset)?.get(participant) ?? 0n) < -net) short.add(participant);
      }
    }
    if (short.size === 0) {
      const participants = new Set<string>();
      for (const o of settling) participants.add(o.from).add(o.to);
      const { payOuts } = settlementInstructions(positions);
      const refunds: ClearingTransfer[] = [];
      for (const [asset, byParticipant] of paidIn) {
        for (const [participant, paid] of byParticipant) {
          const net = positions.get(asset)?.get(participant) ?? 0n;
          const needed = net < 0n ? -net : 0n;
          if (paid > needed) refunds.push({ participant, asset, amount: paid - needed });
        }
      }
      return {
        settled: [...participants].sort(),
        takenOut,
        settling,
        rolled: obligations.filter((o) => out.has(o.from) || out.has(o.to)),
        positions,
        payOuts,
        refunds,
      };
    }
    for (const participant of [...short].sort()) {
      takenOut.push(participant);
      out.add(participant);
    }
    settling = settling.filter((o) => !out.has(o.from) && !out.has(o.to));
  }
}
