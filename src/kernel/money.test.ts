import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  divide,
  fiatToSats,
  formatBtc,
  formatBtcCompact,
  formatMoney,
  formatMoneyForPeople,
  MAX_MONEY,
  parseBtc,
  parseMoney,
  parseRate,
  satsToFiat,
  type Rounding,
} from './money';

describe('BTC strings', () => {
  it.each([
    ['1', 100_000_000n],
    ['0.00000001', 1n],
    ['20.3', 2_030_000_000n],
    ['50', 5_000_000_000n],
    ['0.12345678', 12_345_678n],
    ['21000000', MAX_MONEY],
  ])('parses %s exactly', (text, expected) => {
    expect(parseBtc(text)).toBe(expected);
  });

  it.each([
    '0.000000001',
    '1.123456789',
    '-1',
    '1e-8',
    '',
    '.5',
    '1.',
    '0x10',
    '21000000.00000001',
  ])('refuses %j with a message naming the field', (text) => {
    expect(() => parseBtc(text, 'amount')).toThrow(/^amount/);
  });

  it('says over-precise input is over-precise, not rounded', () => {
    expect(() => parseBtc('0.000000015')).toThrow(/more than 8 decimal places/);
  });

  it('formats with 8 decimals and compactly', () => {
    expect(formatBtc(12_345n)).toBe('0.00012345');
    expect(formatBtc(-150_000_000n)).toBe('-1.50000000');
    expect(formatBtcCompact(150_000_000n)).toBe('1.5');
    expect(formatBtcCompact(100_000_000n)).toBe('1');
  });

  it('round-trips every amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_MONEY }), (amount) => {
        expect(parseBtc(formatBtc(amount))).toBe(amount);
        expect(parseBtc(formatBtcCompact(amount))).toBe(amount);
      }),
    );
  });
});

describe('fiat money', () => {
  it('uses the ISO 4217 exponent of each currency', () => {
    expect(parseMoney('1250.50', 'USD').minor).toBe(125_050n);
    expect(parseMoney('1250', 'JPY').minor).toBe(1250n);
    expect(parseMoney('1.005', 'KWD').minor).toBe(1005n);
    expect(formatMoney(parseMoney('1.005', 'KWD'))).toBe('1.005');
    expect(formatMoney({ minor: 5n, currency: parseMoney('0', 'USD').currency })).toBe('0.05');
  });

  it('formats money for people with its code, its decimals and grouped thousands', () => {
    expect(formatMoneyForPeople(parseMoney('1000', 'USD'))).toBe('USD 1,000.00');
    expect(formatMoneyForPeople(parseMoney('150000', 'JPY'))).toBe('JPY 150,000');
    expect(formatMoneyForPeople(parseMoney('1250.5', 'KWD'))).toBe('KWD 1,250.500');
    expect(formatMoneyForPeople(parseMoney('-0.05', 'USD'))).toBe('USD -0.05');
  });

  it('refuses more decimals than the currency has, and unknown currencies', () => {
    expect(() => parseMoney('1.001', 'USD')).toThrow(/USD has 2 decimal places/);
    expect(() => parseMoney('1.5', 'JPY')).toThrow(/JPY has 0 decimal places/);
    expect(() => parseMoney('1', 'XXX')).toThrow(/ISO 4217/);
  });
});

describe('rounding', () => {
  const cases: [bigint, bigint, Rounding, bigint][] = [
    [5n, 2n, 'halfEven', 2n],
    [7n, 2n, 'halfEven', 4n],
    [-5n, 2n, 'halfEven', -2n],
    [5n, 2n, 'halfUp', 3n],
    [-5n, 2n, 'halfUp', -3n],
    [7n, 3n, 'down', 2n],
    [-7n, 3n, 'down', -2n],
    [7n, 3n, 'up', 3n],
    [-7n, 3n, 'floor', -3n],
    [-7n, 3n, 'ceiling', -2n],
    [6n, 3n, 'up', 2n],
  ];
  it.each(cases)('%d / %d rounded %s is %d', (n, d, rounding, expected) => {
    expect(divide(n, d, rounding)).toBe(expected);
  });

  it('stays within one unit of the exact quotient and brackets it by floor and ceiling', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (n, d) => {
          const floor = divide(n, d, 'floor');
          const ceiling = divide(n, d, 'ceiling');
          expect(floor * d <= n && n <= ceiling * d).toBe(true);
          for (const mode of ['halfEven', 'halfUp', 'down', 'up'] as const) {
            const q = divide(n, d, mode);
            expect(q === floor || q === ceiling).toBe(true);
          }
        },
      ),
    );
  });
});

describe('exchange rates', () => {
  it('converts sats to fiat exactly at a decimal rate', () => {
    const rate = parseRate('67123.45', 'USD');
    // 0.5 BTC at 67,123.45 USD = 33,561.725 USD → cents, half-even → 3,356,172
    expect(satsToFiat(50_000_000n, rate, 'halfEven').minor).toBe(3_356_172n);
    expect(satsToFiat(50_000_000n, rate, 'halfUp').minor).toBe(3_356_173n);
    expect(satsToFiat(100_000_000n, rate, 'down').minor).toBe(6_712_345n);
  });

  it('converts fiat to sats, rounding up when the payer must cover the amount', () => {
    const rate = parseRate('60000', 'USD');
    // 1,000.00 USD at 60,000 = 0.016666… BTC = 1,666,666.67 sats
    expect(fiatToSats(parseMoney('1000.00', 'USD'), rate, 'up')).toBe(1_666_667n);
    expect(fiatToSats(parseMoney('1000.00', 'USD'), rate, 'down')).toBe(1_666_666n);
  });

  it('refuses a rate quoted in another currency, and malformed rates', () => {
    expect(() => fiatToSats(parseMoney('1', 'EUR'), parseRate('1', 'USD'), 'up')).toThrow(
      /quoted in USD/,
    );
    expect(() => parseRate('0', 'USD')).toThrow(/greater than zero/);
    expect(() => parseRate('-1', 'USD')).toThrow(/positive decimal/);
  });

  it('round-trips fiat → sats → fiat within one minor unit', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.integer({ min: 1_000, max: 10_000_000 }),
        (minor, price) => {
          const rate = parseRate(`${price}.37`, 'USD');
          const amount = fiatToSats({ minor, currency: rate.quote }, rate, 'up');
          const back = satsToFiat(amount, rate, 'down').minor;
          expect(back >= minor - 1n).toBe(true);
        },
      ),
    );
  });
});
