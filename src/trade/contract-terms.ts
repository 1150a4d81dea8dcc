import {
  AppError,
  currency as parseCurrency,
  invalid,
  parseMoney,
  sats,
  type Caller,
  type CurrencyCode,
} from '../kernel';
import type { ContractStatus } from './lifecycle';
import type { tradeContracts } from './schema';

/**
 * A contract's terms: its input and view types, the unit it is counted in, and the checks its
 * input passes before anything is read or written (`checkContractInput`).
 */

/** Incoterms 2020 (ICC). */
export const INCOTERMS = [
  'EXW',
  'FCA',
  'CPT',
  'CIP',
  'DAP',
  'DPU',
  'DDP',
  'FAS',
  'FOB',
  'CFR',
  'CIF',
] as const;
export type Incoterm = (typeof INCOTERMS)[number];
export type PricingMode = 'fixedBtc' | 'fiat';
export type Direction = 'export' | 'import';

export interface ContractInput {
  readonly companyId?: string;
  readonly counterpartyId: string;
  readonly direction: Direction;
  readonly goodsDescription: string;
  readonly hsCode: string;
  readonly incoterm: Incoterm;
  readonly currency: string;
  /** Decimal in the contract currency, e.g. "12500.00". */
  readonly amount: string;
  readonly pricingMode: PricingMode;
  /** For fixedBtc: the price in sats. */
  readonly btcAmountSats?: string;
  /** Instalments; amounts in the contract's unit (sats for fixedBtc, the currency otherwise). */
  readonly schedule: readonly { readonly dueDate: string; readonly amount: string }[];
  readonly customsDeclarationRef?: string | null;
}

export interface ContractView {
  readonly id: string;
  readonly platformId: string;
  readonly companyId: string;
  readonly counterpartyId: string;
  readonly direction: Direction;
  readonly goodsDescription: string;
  readonly hsCode: string;
  readonly incoterm: string;
  readonly currency: string;
  readonly amount: string;
  readonly pricingMode: PricingMode;
  readonly btcAmountSats: bigint | null;
  readonly customsDeclarationRef: string | null;
  readonly status: ContractStatus;
  readonly supervisorApproval: 'notRequired' | 'pending' | 'granted';
  /** The unit the contract is counted in: 'BTC' (sats) for fixedBtc, else the currency (minor units). */
  readonly unit: string;
  readonly totalAmount: bigint;
  readonly settledAmount: bigint;
  readonly reservedAmount: bigint;
  readonly openAmount: bigint;
  readonly schedule: readonly { seq: number; dueDate: string; amount: bigint }[];
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type ContractRow = typeof tradeContracts.$inferSelect;

export function contractUnit(row: Pick<ContractRow, 'pricingMode' | 'currency'>): string {
  return row.pricingMode === 'fixedBtc' ? 'BTC' : row.currency;
}

export function contractTotal(
  row: Pick<ContractRow, 'pricingMode' | 'btcAmountSats' | 'amountMinor'>,
): bigint {
  return row.pricingMode === 'fixedBtc' ? (row.btcAmountSats ?? 0n) : row.amountMinor;
}

/** A contract's input as checked: amounts in minor units or sats, the schedule numbered. */
export interface CheckedContract {
  readonly companyId: string;
  readonly currency: CurrencyCode;
  readonly amountMinor: bigint;
  readonly btcAmountSats: bigint | null;
  readonly schedule: readonly { seq: number; dueDate: string; amount: bigint }[];
}

/**
 * Checks a contract's input before anything is read: who registers it, its HS code and
 * Incoterm, its amount in its currency (and in sats for fixed-BTC pricing), and a schedule whose
 * instalments sum to the contract's amount in the contract's unit.
 */
export function checkContractInput(caller: Caller, input: ContractInput): CheckedContract {
  const companyId = caller.role === 'company' ? caller.participantId : input.companyId;
  if (!companyId) throw invalid('companyId', 'is required when a platform registers a contract');
  if (caller.role !== 'company' && caller.role !== 'platform') {
    throw new AppError('FORBIDDEN', 'contracts are registered by the company or its platform');
  }
  if (!/^\d{6}$/.test(input.hsCode)) {
    throw invalid('hsCode', `must be a 6-digit Harmonized System code, got "${input.hsCode}"`);
  }
  if (!(INCOTERMS as readonly string[]).includes(input.incoterm)) {
    throw invalid(
      'incoterm',
      `must be an Incoterms 2020 rule (${INCOTERMS.join(', ')}), got "${input.incoterm}"`,
    );
  }
  const code = parseCurrency(input.currency);
  const amount = parseMoney(input.amount, code, 'amount');
  if (amount.minor <= 0n)
    throw invalid('amount', `must be greater than zero, got "${input.amount}"`);
  const btcAmountSats = checkBtcPrice(input);
  const schedule = checkSchedule(input, code, btcAmountSats, btcAmountSats ?? amount.minor);
  return { companyId, currency: code, amountMinor: amount.minor, btcAmountSats, schedule };
}

/** The price in sats of a fixed-BTC contract (null for a fiat one, which must not name one). */
function checkBtcPrice(input: ContractInput): bigint | null {
  if (input.pricingMode === 'fixedBtc') {
    if (!input.btcAmountSats)
      throw invalid('btcAmountSats', 'is required when pricingMode is fixedBtc');
    const btcAmountSats = sats(input.btcAmountSats, 'btcAmountSats');
    if (btcAmountSats <= 0n) throw invalid('btcAmountSats', 'must be greater than zero');
    return btcAmountSats;
  }
  if (input.btcAmountSats !== undefined) {
    throw invalid('btcAmountSats', 'is only for pricingMode fixedBtc');
  }
  return null;
}

/** The instalments in the contract's unit, numbered from 1, summing to `total`. */
function checkSchedule(
  input: ContractInput,
  code: CurrencyCode,
  btcAmountSats: bigint | null,
  total: bigint,
): CheckedContract['schedule'] {
  if (input.schedule.length === 0) throw invalid('schedule', 'needs at least one instalment');
  const schedule = input.schedule.map((instalment, i) => {
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(instalment.dueDate) ||
      Number.isNaN(Date.parse(instalment.dueDate))
    ) {
      throw invalid(
        `schedule[${i}].dueDate`,
        `must be a date like 2026-09-30, got "${instalment.dueDate}"`,
      );
    }
    const value =
      btcAmountSats !== null
        ? sats(instalment.amount, `schedule[${i}].amount`)
        : parseMoney(instalment.amount, code, `schedule[${i}].amount`).minor;
    if (value <= 0n) throw invalid(`schedule[${i}].amount`, 'must be greater than zero');
    return { seq: i + 1, dueDate: instalment.dueDate, amount: value };
  });
  const scheduled = schedule.reduce((s, x) => s + x.amount, 0n);
  if (scheduled !== total) {
    throw invalid(
      'schedule',
      `instalments sum to ${scheduled} but the contract amount is ${total} (${btcAmountSats !== null ? 'sats' : `${code} minor units`})`,
    );
  }
  return schedule;
}
