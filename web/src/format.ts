/** Amounts and dates formatted for the user's locale. Amounts arrive as strings (exact). */

const locale = typeof navigator === 'undefined' ? 'en' : navigator.language;

/** Sats as BTC with exactly 8 decimals, grouped for the locale: "1,234.50000000". */
export function formatBtc(sats: string | bigint): string {
  const value = BigInt(sats);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = new Intl.NumberFormat(locale).format(abs / 100_000_000n);
  const decimal =
    new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === 'decimal')?.value ??
    '.';
  return `${negative ? '-' : ''}${whole}${decimal}${(abs % 100_000_000n).toString().padStart(8, '0')} BTC`;
}

/** Fiat from minor units with its ISO 4217 currency. */
export function formatFiat(minor: string | bigint, currency: string, exponent = 2): string {
  const value = Number(BigInt(minor)) / 10 ** exponent;
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: exponent,
  }).format(value);
}

export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );
}
