import { AppError, formatBtc, isAppError, parseBtc } from '../../kernel';
import type { Random } from '../../kernel';
import { selectCoins } from './select';
import type { CoinSelectionAlgorithm, CoinSelectionRequest, Utxo } from './select';
import { P2WPKH_INPUT_VBYTES } from './sizes';

export interface ScenarioOptions {
  readonly random: Random;
  /** Passed to every selection (long-term rate, discard rate, change target, algorithms…). */
  readonly selection?: Omit<
    CoinSelectionRequest,
    'utxos' | 'target' | 'feeRateSatPerKvB' | 'random'
  >;
}

export interface ScenarioReport {
  readonly deposits: number;
  readonly paymentsMade: number;
  readonly paymentsFailed: number;
  /** Sum of the payments made (not counting fees). */
  readonly totalPaidSats: bigint;
  readonly totalFeesSats: bigint;
  readonly totalFeesBtc: string;
  /** Rounded down to whole sats. */
  readonly averageFeePerPaymentSats: bigint;
  readonly averageInputsPerPayment: number;
  /** Share of payments with no change output, 0–1. */
  readonly changelessShare: number;
  readonly finalUtxoCount: number;
  readonly finalBalanceSats: bigint;
  readonly algorithmCounts: Readonly<Record<CoinSelectionAlgorithm, number>>;
}

interface ScenarioLine {
  readonly lineNumber: number;
  /** Positive: a deposit; negative: a payment out. */
  readonly amount: bigint;
  readonly feeRateSatPerKvB: bigint;
}

/**
 * Parses a coin-selection scenario: one operation per line, `amount_BTC,feerate_BTC_per_kvB`.
 * A positive amount is a deposit (a new coin), a negative one a payment. A fee rate in BTC/kvB
 * read as sats is sats per kvB (0.00001 BTC/kvB = 1,000 sat/kvB = 1 sat/vB). Any malformed line
 * refuses the whole file, naming the line.
 */
export function parseScenario(csvText: string): ScenarioLine[] {
  const lines: ScenarioLine[] = [];
  const rows = csvText.split(/\r?\n/);
  rows.forEach((row, index) => {
    const lineNumber = index + 1;
    const text = row.trim();
    if (text === '') return;
    const fields = text.split(',');
    if (fields.length !== 2) {
      throw scenarioError(lineNumber, `expected "amount_BTC,feerate_BTC_per_kvB", got "${text}"`);
    }
    const [amountText, feeRateText] = fields as [string, string];
    const negative = amountText.trim().startsWith('-');
    let amount: bigint;
    let feeRate: bigint;
    try {
      amount = parseBtc(negative ? amountText.trim().slice(1) : amountText, 'amount');
      feeRate = parseBtc(feeRateText, 'fee rate');
    } catch (error) {
      if (isAppError(error)) throw scenarioError(lineNumber, error.message);
      throw error;
    }
    if (amount === 0n) throw scenarioError(lineNumber, 'amount must not be zero');
    lines.push({ lineNumber, amount: negative ? -amount : amount, feeRateSatPerKvB: feeRate });
  });
  if (lines.length === 0) throw scenarioError(1, 'the scenario has no operations');
  return lines;
}

function scenarioError(lineNumber: number, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `line ${lineNumber}: ${message}`);
}

/**
 * Replays a scenario against a P2WPKH wallet: deposits create coins, payments are paid from the
 * pool by `selectCoins` at the line's fee rate, and their change returns to the pool. A payment
 * the pool cannot cover is counted as failed and skipped.
 */
export function simulateScenario(csvText: string, options: ScenarioOptions): ScenarioReport {
  const operations = parseScenario(csvText);
  const pool = new Map<string, Utxo>();
  let deposits = 0;
  let paymentsMade = 0;
  let paymentsFailed = 0;
  let totalFees = 0n;
  let totalPaid = 0n;
  let totalInputs = 0;
  let changeless = 0;
  const algorithmCounts: Record<CoinSelectionAlgorithm, number> = {
    bnb: 0,
    coingrinder: 0,
    knapsack: 0,
    srd: 0,
  };

  for (const operation of operations) {
    if (operation.amount > 0n) {
      deposits++;
      const id = `deposit:${operation.lineNumber}`;
      pool.set(id, { id, value: operation.amount, inputVbytes: P2WPKH_INPUT_VBYTES });
      continue;
    }
    let selection;
    try {
      selection = selectCoins({
        ...options.selection,
        utxos: [...pool.values()],
        target: -operation.amount,
        feeRateSatPerKvB: operation.feeRateSatPerKvB,
        random: options.random,
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'INSUFFICIENT_FUNDS') {
        paymentsFailed++;
        continue;
      }
      throw error;
    }
    paymentsMade++;
    totalFees += selection.fee;
    totalPaid += -operation.amount;
    totalInputs += selection.inputs.length;
    algorithmCounts[selection.algorithm]++;
    for (const input of selection.inputs) pool.delete(input.id);
    if (selection.change === undefined) changeless++;
    else {
      const id = `change:${operation.lineNumber}`;
      pool.set(id, { id, value: selection.change, inputVbytes: P2WPKH_INPUT_VBYTES });
    }
  }

  let finalBalance = 0n;
  for (const utxo of pool.values()) finalBalance += utxo.value;
  return {
    deposits,
    paymentsMade,
    paymentsFailed,
    totalPaidSats: totalPaid,
    totalFeesSats: totalFees,
    totalFeesBtc: formatBtc(totalFees),
    averageFeePerPaymentSats: paymentsMade === 0 ? 0n : totalFees / BigInt(paymentsMade),
    averageInputsPerPayment: paymentsMade === 0 ? 0 : totalInputs / paymentsMade,
    changelessShare: paymentsMade === 0 ? 0 : changeless / paymentsMade,
    finalUtxoCount: pool.size,
    finalBalanceSats: finalBalance,
    algorithmCounts,
  };
}
