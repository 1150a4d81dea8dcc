import { AppError, invalid } from '../../kernel';
import type { Random } from '../../kernel';
import { selectBranchAndBound } from './bnb';
import { exactNumber, sumEffectiveValue } from './candidate';
import type { Candidate } from './candidate';
import { selectKnapsack } from './knapsack';
import { selectCoinGrinder } from './coingrinder';
import { RandomDraws } from './random';
import {
  P2WPKH_INPUT_VBYTES,
  P2WPKH_OUTPUT_VBYTES,
  compactSizeBytes,
  feeForVbytes,
  transactionVsize,
} from './sizes';
import { selectSingleRandomDraw } from './srd';

/** A coin the wallet can spend. */
export interface Utxo {
  readonly id: string;
  readonly value: bigint;
  /** vbytes this coin adds when spent (68 for P2WPKH, see sizes.ts). */
  readonly inputVbytes: number;
}

export type CoinSelectionAlgorithm = 'bnb' | 'coingrinder' | 'knapsack' | 'srd';
export const COIN_SELECTION_ALGORITHMS: readonly CoinSelectionAlgorithm[] = [
  'bnb',
  'coingrinder',
  'knapsack',
  'srd',
];

/** Bitcoin Core's defaults (wallet.h, coinselection.h). */
export const DEFAULT_LONG_TERM_FEE_RATE_SAT_PER_KVB = 10_000n; // -consolidatefeerate, 10 sat/vB
export const DEFAULT_DISCARD_FEE_RATE_SAT_PER_KVB = 10_000n; // -discardfee, 10 sat/vB
/** Dust threshold of a P2WPKH output at the default 3 sat/vB dust relay fee (policy.cpp). */
export const P2WPKH_DUST_LIMIT = 294n;
/** Core's CHANGE_LOWER and CHANGE_UPPER: the range of the randomized change target. */
export const CHANGE_LOWER = 50_000n;
export const CHANGE_UPPER = 1_000_000n;

export interface CoinSelectionRequest {
  readonly utxos: readonly Utxo[];
  /** Sum of the payment outputs, in sats. */
  readonly target: bigint;
  /** Serialized size of each payment output; default one P2WPKH output (31 bytes). */
  readonly paymentOutputBytes?: readonly number[];
  readonly feeRateSatPerKvB: bigint;
  /** The rate the wallet expects to pay on average; inputs spent above it count as waste. */
  readonly longTermFeeRateSatPerKvB?: bigint;
  /** The rate at which a change output would later be spent (Core's discard rate). */
  readonly discardFeeRateSatPerKvB?: bigint;
  readonly changeOutputBytes?: number;
  /** vbytes to spend the change output later (68 for P2WPKH). */
  readonly changeSpendVbytes?: number;
  readonly dustLimit?: bigint;
  /**
   * Core draws the knapsack's change target at random in [50k, min(2 × payment, 1M)] sats
   * (GenerateChangeTarget) so that change amounts do not reveal the wallet's algorithm; when
   * false the target is the fixed 50k sats lower bound.
   */
  readonly randomizeChangeTarget?: boolean;
  readonly algorithms?: readonly CoinSelectionAlgorithm[];
  readonly random: Random;
}

export interface CoinSelection {
  readonly algorithm: CoinSelectionAlgorithm;
  readonly inputs: readonly Utxo[];
  /** The change amount, or undefined when the transaction has no change output. */
  readonly change: bigint | undefined;
  readonly fee: bigint;
  /** Bitcoin Core's waste metric of this selection (sats; may be negative). */
  readonly waste: bigint;
  /** vsize of the resulting transaction. */
  readonly vsize: number;
  readonly inputValue: bigint;
}

interface Candidates {
  readonly pool: Candidate[];
}

function validate(request: CoinSelectionRequest): void {
  if (request.target <= 0n) {
    throw invalid('target', `must be a positive number of sats, got ${request.target}`);
  }
  if (request.feeRateSatPerKvB < 0n) {
    throw invalid('feeRateSatPerKvB', `must not be negative, got ${request.feeRateSatPerKvB}`);
  }
  for (const utxo of request.utxos) {
    if (utxo.value < 0n) throw invalid('utxos', `${utxo.id} has a negative value ${utxo.value}`);
    if (!Number.isInteger(utxo.inputVbytes) || utxo.inputVbytes <= 0) {
      throw invalid(
        'utxos',
        `${utxo.id} inputVbytes must be a positive integer, got ${utxo.inputVbytes}`,
      );
    }
  }
}

/**
 * Chooses the inputs of a payment as Bitcoin Core's wallet does (wallet/spend.cpp
 * ChooseSelectionResult): run branch and bound, CoinGrinder (at high fee rates), knapsack and
 * single random draw on the coins'
 * effective values, score each result with the waste metric and keep the lowest (on a tie, the
 * one with more inputs, which consolidates at no extra cost).
 *
 * Waste (Core's SelectionResult::ComputeAndSetWaste) = Σ over inputs of (fee at the current rate
 * − fee at the long-term rate) + (the cost of the change output — creating it now and spending
 * it later — if there is change, else the excess given to the miner).
 *
 * Throws AppError('INSUFFICIENT_FUNDS') when the coins cannot pay the target and the fee.
 */
export function selectCoins(request: CoinSelectionRequest): CoinSelection {
  validate(request);
  // The input count's CompactSize grows from 1 to 3 bytes at 253 inputs; retry in that case.
  const first = selectWithInputCountBytes(request, 1);
  if (first === undefined || first.inputs.length < 0xfd) return finish(first, request);
  return finish(selectWithInputCountBytes(request, 3), request);
}

function finish(
  selection: CoinSelection | undefined,
  request: CoinSelectionRequest,
): CoinSelection {
  if (selection !== undefined) return selection;
  const total = request.utxos.reduce((sum, utxo) => sum + utxo.value, 0n);
  throw new AppError(
    'INSUFFICIENT_FUNDS',
    `the ${request.utxos.length} available coins (${total} sats) cannot pay ${request.target} sats plus the fee at ${request.feeRateSatPerKvB} sat/kvB`,
    { details: { available: total.toString(), target: request.target.toString() } },
  );
}

function selectWithInputCountBytes(
  request: CoinSelectionRequest,
  inputCountBytes: number,
): CoinSelection | undefined {
  const rate = request.feeRateSatPerKvB;
  const longTermRate = request.longTermFeeRateSatPerKvB ?? DEFAULT_LONG_TERM_FEE_RATE_SAT_PER_KVB;
  const discardRate = request.discardFeeRateSatPerKvB ?? DEFAULT_DISCARD_FEE_RATE_SAT_PER_KVB;
  const paymentOutputs = request.paymentOutputBytes ?? [P2WPKH_OUTPUT_VBYTES];
  const changeOutputBytes = request.changeOutputBytes ?? P2WPKH_OUTPUT_VBYTES;
  const changeSpendVbytes = request.changeSpendVbytes ?? P2WPKH_INPUT_VBYTES;
  const dustLimit = request.dustLimit ?? P2WPKH_DUST_LIMIT;
  const draws = new RandomDraws(request.random);

  // Everything but the inputs: version, locktime, the counts (the output count sized for a
  // possible change output), marker and flag, the payment outputs. Inputs then add whole vbytes.
  const noInputVbytes = Math.ceil(
    ((8 + inputCountBytes + compactSizeBytes(paymentOutputs.length + 1)) * 4 +
      2 +
      paymentOutputs.reduce((sum, bytes) => sum + bytes * 4, 0)) /
      4,
  );
  const notInputFees = feeForVbytes(noInputVbytes, rate);
  const changeFee = feeForVbytes(changeOutputBytes, rate);
  const changeSpendFee = feeForVbytes(changeSpendVbytes, discardRate);
  const costOfChange = changeSpendFee + changeFee;
  const minViableChange = changeSpendFee + 1n > dustLimit ? changeSpendFee + 1n : dustLimit;
  const changeTarget =
    changeFee + generateChangeTarget(request.target, request.randomizeChangeTarget ?? true, draws);
  const selectionTarget = request.target + notInputFees;

  const { pool } = toCandidates(request.utxos, rate, longTermRate);
  if (sumEffectiveValue(pool) < exactNumber(selectionTarget, 'target')) return undefined;

  const target = exactNumber(selectionTarget, 'target');
  const algorithms = request.algorithms ?? COIN_SELECTION_ALGORITHMS;
  const results: { algorithm: CoinSelectionAlgorithm; positions: number[] }[] = [];
  for (const algorithm of algorithms) {
    let positions: number[] | undefined;
    if (algorithm === 'bnb') {
      positions = selectBranchAndBound(pool, target, exactNumber(costOfChange, 'cost of change'));
    } else if (algorithm === 'coingrinder') {
      // Core runs CoinGrinder only when the fee rate is above 3× the long-term rate, where
      // saving input weight matters more than the change output it will create.
      if (rate <= 3n * longTermRate) continue;
      positions = selectCoinGrinder(pool, target, exactNumber(changeTarget, 'change target'));
    } else if (algorithm === 'knapsack') {
      positions = selectKnapsack(pool, target, exactNumber(changeTarget, 'change target'), draws);
    } else {
      positions = selectSingleRandomDraw(
        pool,
        target,
        exactNumber(changeFee, 'change fee'),
        exactNumber(CHANGE_LOWER, 'minimum change'),
        draws,
      );
    }
    if (positions !== undefined && positions.length > 0) results.push({ algorithm, positions });
  }

  let best: CoinSelection | undefined;
  for (const { algorithm, positions } of results) {
    const inputs = positions.map((position) => request.utxos[position] as Utxo);
    let inputFees = 0n;
    let waste = 0n;
    let inputValue = 0n;
    for (const input of inputs) {
      const fee = feeForVbytes(input.inputVbytes, rate);
      inputFees += fee;
      waste += fee - feeForVbytes(input.inputVbytes, longTermRate);
      inputValue += input.value;
    }
    const selectedEffectiveValue = inputValue - inputFees;
    const excess = selectedEffectiveValue - selectionTarget;
    // Core's SelectionResult::GetChange: change below the minimum viable amount goes to fees.
    const plannedChange = excess - changeFee;
    const hasChange = plannedChange >= minViableChange;
    waste += hasChange ? costOfChange : excess;

    const inputVbytes = inputs.map((input) => input.inputVbytes);
    let change: bigint | undefined;
    let fee: bigint;
    let vsize: number;
    if (hasChange) {
      vsize = transactionVsize({
        inputVbytes,
        outputBytes: [...paymentOutputs, changeOutputBytes],
      });
      // As Core does after signing-size estimation: the change absorbs any overestimate, so
      // the fee is exactly the rate times the vsize.
      fee = feeForVbytes(vsize, rate);
      change = inputValue - request.target - fee;
    } else {
      vsize = transactionVsize({ inputVbytes, outputBytes: paymentOutputs });
      fee = inputValue - request.target;
    }
    const candidate: CoinSelection = { algorithm, inputs, change, fee, waste, vsize, inputValue };
    if (
      best === undefined ||
      candidate.waste < best.waste ||
      (candidate.waste === best.waste && candidate.inputs.length > best.inputs.length)
    ) {
      best = candidate;
    }
  }
  return best;
}

function toCandidates(utxos: readonly Utxo[], rate: bigint, longTermRate: bigint): Candidates {
  const pool: Candidate[] = [];
  utxos.forEach((utxo, position) => {
    const fee = feeForVbytes(utxo.inputVbytes, rate);
    const effectiveValue = utxo.value - fee;
    // A coin worth less than the fee to spend it only makes the payment dearer (Core skips it).
    if (effectiveValue <= 0n) return;
    pool.push({
      position,
      effectiveValue: exactNumber(effectiveValue, `effective value of ${utxo.id}`),
      fee: exactNumber(fee, 'input fee'),
      longTermFee: exactNumber(feeForVbytes(utxo.inputVbytes, longTermRate), 'input fee'),
      weight: utxo.inputVbytes * 4,
    });
  });
  return { pool };
}

/**
 * Core's GenerateChangeTarget (without the change fee, which the caller adds): for payments up
 * to 25k sats, 50k; otherwise uniform in [50k, min(2 × payment, 1M)).
 */
function generateChangeTarget(payment: bigint, randomize: boolean, draws: RandomDraws): bigint {
  if (!randomize || payment <= CHANGE_LOWER / 2n) return CHANGE_LOWER;
  const upper = payment * 2n < CHANGE_UPPER ? payment * 2n : CHANGE_UPPER;
  return CHANGE_LOWER + BigInt(draws.below(Number(upper - CHANGE_LOWER)));
}
