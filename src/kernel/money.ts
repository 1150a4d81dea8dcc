import { AppError, invalid } from './errors';

/**
 * Money. Bitcoin amounts are bigint satoshis; fiat amounts are bigint minor units with their
 * ISO 4217 currency; exchange rates are exact decimals. Nothing here is ever a float.
 *
 * Amounts are plain `bigint`s with the unit in the name (`valueSats`, `amountMinor`,
 * `feeRateSatPerKvB`), everywhere: a brand on sats used in a few signatures and not in the rest
 * gave no guarantee, only the look of one. `sats()` is the check where an amount enters.
 */

export const SATS_PER_BTC = 100_000_000n;
/** The 21 million BTC supply cap in sats: no valid amount exceeds it. */
export const MAX_MONEY = 21_000_000n * SATS_PER_BTC;

export function sats(value: bigint | number | string, field = 'amount'): bigint {
  let parsed: bigint;
  if (typeof value === 'bigint') parsed = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw invalid(field, `must be an integer number of sats, got ${value}`);
    parsed = BigInt(value);
  } else {
    // MAX_MONEY has 16 digits: a longer string is out of range before it is parsed (and a
    // megabyte of digits is not turned into a bigint only to be refused).
    if (!/^-?\d{1,20}$/.test(value)) {
      const shown = value.length > 24 ? `${value.slice(0, 24)}…` : value;
      throw invalid(
        field,
        /^-?\d+$/.test(value)
          ? `must be between 0 and ${MAX_MONEY} sats, got ${shown}`
          : `must be an integer number of sats, got "${shown}"`,
      );
    }
    parsed = BigInt(value);
  }
  if (parsed < 0n || parsed > MAX_MONEY) {
    throw invalid(field, `must be between 0 and ${MAX_MONEY} sats, got ${parsed}`);
  }
  return parsed;
}

const BTC_PATTERN = /^(\d{1,8})(?:\.(\d{1,8}))?$/;

/**
 * Parses a BTC amount such as "0.00012345". More than 8 decimals is refused, never rounded
 * (BIP21: "the number of decimal places must not exceed 8").
 */
export function parseBtc(text: string, field = 'amount'): bigint {
  const match = BTC_PATTERN.exec(text.trim());
  if (!match) {
    if (/^\d+\.\d{9,}$/.test(text.trim())) {
      throw invalid(field, `has more than 8 decimal places, got "${text}"`);
    }
    throw invalid(field, `must be a BTC amount like "0.0015" (at most 8 decimals), got "${text}"`);
  }
  const whole = BigInt(match[1] ?? '0');
  const fraction = BigInt((match[2] ?? '').padEnd(8, '0'));
  return sats(whole * SATS_PER_BTC + fraction, field);
}

/** Formats sats as BTC with exactly 8 decimals: 12345n → "0.00012345". */
export function formatBtc(amount: bigint): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const whole = abs / SATS_PER_BTC;
  const fraction = (abs % SATS_PER_BTC).toString().padStart(8, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Formats sats as the shortest BTC string (BIP21 style): 150000000n → "1.5". */
export function formatBtcCompact(amount: bigint): string {
  return formatBtc(amount).replace(/\.?0+$/, '');
}

/** ISO 4217 minor-unit exponents for the currencies the scheme quotes. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = {
  AED: 2,
  ARS: 2,
  AUD: 2,
  BHD: 3,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CLP: 0,
  CNY: 2,
  COP: 2,
  CZK: 2,
  DKK: 2,
  EGP: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  IQD: 3,
  IRR: 2,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KES: 2,
  KRW: 0,
  KWD: 3,
  KZT: 2,
  LYD: 3,
  MXN: 2,
  MYR: 2,
  NGN: 2,
  NOK: 2,
  NZD: 2,
  OMR: 3,
  PHP: 2,
  PKR: 2,
  PLN: 2,
  QAR: 2,
  RUB: 2,
  SAR: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TND: 3,
  TRY: 2,
  TWD: 2,
  UAH: 2,
  USD: 2,
  UZS: 2,
  VES: 2,
  VND: 0,
  XAF: 0,
  XOF: 0,
  ZAR: 2,
};

export type CurrencyCode = string & { readonly __currency: true };

export function currency(code: string, field = 'currency'): CurrencyCode {
  if (!Object.hasOwn(CURRENCY_EXPONENTS, code)) {
    throw invalid(field, `must be an ISO 4217 currency code the scheme supports, got "${code}"`);
  }
  return code as CurrencyCode;
}

export function currencyExponent(code: CurrencyCode): number {
  const exponent = CURRENCY_EXPONENTS[code];
  if (exponent === undefined) throw invalid('currency', `unknown currency "${code}"`);
  return exponent;
}

/** A fiat amount in minor units (cents for USD, yen for JPY, fils for KWD). */
export interface Money {
  readonly minor: bigint;
  readonly currency: CurrencyCode;
}

export function money(minor: bigint, code: string): Money {
  return { minor, currency: currency(code) };
}

/** Parses "1234.56" in the currency's exponent; more decimals than the currency has is refused. */
export function parseMoney(text: string, code: string, field = 'amount'): Money {
  const cur = currency(code);
  const exponent = currencyExponent(cur);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw invalid(field, `must be a decimal amount like "1250.00", got "${text}"`);
  const fraction = match[3] ?? '';
  if (fraction.length > exponent) {
    throw invalid(field, `${cur} has ${exponent} decimal places, got "${text}"`);
  }
  const minor = BigInt((match[2] ?? '0') + fraction.padEnd(exponent, '0'));
  return { minor: match[1] === '-' ? -minor : minor, currency: cur };
}

export function formatMoney(value: Money): string {
  return formatDecimal(value.minor, currencyExponent(value.currency));
}

/**
 * Money for people to read: the currency code, then the amount with its currency's decimals and
 * its thousands grouped, "USD 1,000.00" (JPY "JPY 150,000", KWD "KWD 1,250.500").
 */
export function formatMoneyForPeople(value: Money): string {
  const plain = formatMoney(value);
  const [whole = '', fraction] = plain.replace(/^-/, '').split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = plain.startsWith('-') ? '-' : '';
  return `${value.currency} ${sign}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) {
    throw new AppError('VALIDATION_FAILED', `cannot add ${a.currency} to ${b.currency}`);
  }
  return { minor: a.minor + b.minor, currency: a.currency };
}

/** How a division that does not come out even is rounded. Always chosen explicitly. */
export type Rounding = 'halfEven' | 'halfUp' | 'down' | 'up' | 'floor' | 'ceiling';

/** Integer division of bigints with an explicit rounding rule. */
export function divide(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) return divide(-numerator, -denominator, rounding);
  const quotient = numerator / denominator; // truncates toward zero
  const remainder = numerator % denominator;
  if (remainder === 0n) return quotient;
  const negative = numerator < 0n;
  const awayFromZero = negative ? quotient - 1n : quotient + 1n;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  switch (rounding) {
    case 'down':
      return quotient;
    case 'up':
      return awayFromZero;
    case 'floor':
      return negative ? quotient - 1n : quotient;
    case 'ceiling':
      return negative ? quotient : quotient + 1n;
    case 'halfUp':
      return twice >= denominator ? awayFromZero : quotient;
    case 'halfEven':
      if (twice > denominator) return awayFromZero;
      if (twice < denominator) return quotient;
      return quotient % 2n === 0n ? quotient : awayFromZero;
  }
}

/**
 * An exchange rate as an exact decimal: the price of 1 BTC in `quote` currency units,
 * e.g. 67123.45 USD per BTC is { digits: 6712345n, scale: 2, quote: 'USD' }.
 */
export interface Rate {
  readonly digits: bigint;
  readonly scale: number;
  readonly quote: CurrencyCode;
}

const MAX_RATE_SCALE = 12;

export function parseRate(text: string, quote: string, field = 'rate'): Rate {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw invalid(field, `must be a positive decimal like "67123.45", got "${text}"`);
  const fraction = match[2] ?? '';
  if (fraction.length > MAX_RATE_SCALE) {
    throw invalid(field, `has more than ${MAX_RATE_SCALE} decimal places, got "${text}"`);
  }
  const digits = BigInt((match[1] ?? '0') + fraction);
  if (digits === 0n) throw invalid(field, 'must be greater than zero');
  return { digits, scale: fraction.length, quote: currency(quote) };
}

export function formatRate(rate: Rate): string {
  return formatDecimal(rate.digits, rate.scale);
}

/** Value of `amount` sats in the rate's currency, in minor units, rounded as told. */
export function satsToFiat(amount: bigint, rate: Rate, rounding: Rounding): Money {
  const exponent = currencyExponent(rate.quote);
  // minor = sats / 1e8 * digits / 10^scale * 10^exponent
  const numerator = amount * rate.digits * 10n ** BigInt(exponent);
  const denominator = SATS_PER_BTC * 10n ** BigInt(rate.scale);
  return { minor: divide(numerator, denominator, rounding), currency: rate.quote };
}

/** Sats needed for a fiat amount at the rate, rounded as told. */
export function fiatToSats(value: Money, rate: Rate, rounding: Rounding): bigint {
  if (value.currency !== rate.quote) {
    throw new AppError(
      'VALIDATION_FAILED',
      `rate is quoted in ${rate.quote}, amount is in ${value.currency}`,
    );
  }
  const exponent = currencyExponent(rate.quote);
  const numerator = value.minor * SATS_PER_BTC * 10n ** BigInt(rate.scale);
  const denominator = rate.digits * 10n ** BigInt(exponent);
  return sats(divide(numerator, denominator, rounding));
}

function formatDecimal(value: bigint, scale: number): string {
  const negative = value < 0n;
  const abs = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = abs.slice(0, abs.length - scale);
  const fraction = abs.slice(abs.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}
