import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isAppError, parseBtc, sats, type NetworkName } from '../kernel';
import { buildPaymentUri, parsePaymentUri } from './bip21';

const v = JSON.parse(
  readFileSync(new URL('../../test/vectors/bip21/examples.json', import.meta.url), 'utf8'),
) as {
  network: NetworkName;
  examples: {
    description: string;
    uri: string;
    valid: boolean;
    expected?: {
      address: string;
      amountBtc?: string;
      label?: string;
      message?: string;
      other?: Record<string, string>;
    };
  }[];
};

function uriError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isAppError(error) && error.code === 'INVALID_PAYMENT_URI') return error.message;
    throw error;
  }
  throw new Error('expected INVALID_PAYMENT_URI');
}

// The address in BIP21's examples, 175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W, fails its base58check
// checksum (bitcoinjs-lib refuses it too). We check that it is refused, then run each example
// with a valid P2PKH address (the genesis address) in its place to test the rest of the URI.
const BIP21_ADDRESS = '175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W';
const VALID_P2PKH = '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa';
const withValidAddress = (uri: string) => uri.replace(BIP21_ADDRESS, VALID_P2PKH);

describe('BIP21 examples', () => {
  it("refuses the examples' address, whose checksum is wrong", () => {
    expect(uriError(() => parsePaymentUri(v.examples[0]?.uri ?? '', v.network))).toBe(
      `address "${BIP21_ADDRESS}" has a bad checksum`,
    );
  });

  for (const example of v.examples) {
    it(example.description, () => {
      const uri = withValidAddress(example.uri);
      if (!example.valid) {
        expect(uriError(() => parsePaymentUri(uri, v.network))).toMatch(
          /requires "req-somethingyoudontunderstand"/,
        );
        return;
      }
      const parsed = parsePaymentUri(uri, v.network);
      const expected = example.expected;
      expect(parsed.address).toBe(withValidAddress(expected?.address ?? ''));
      expect(parsed.amount).toBe(
        expected?.amountBtc === undefined ? undefined : parseBtc(expected.amountBtc),
      );
      expect(parsed.label).toBe(expected?.label);
      expect(parsed.message).toBe(expected?.message);
      expect(parsed.otherParams).toEqual(expected?.other ?? {});
      expect(parsed.addressType).toBe('p2pkh');
    });
  }

  it('reads amounts exactly, never through a float', () => {
    const address = VALID_P2PKH;
    expect(parsePaymentUri(`bitcoin:${address}?amount=0.00000001`, 'mainnet').amount).toBe(1n);
    expect(parsePaymentUri(`BITCOIN:${address}?amount=20999999.9769`, 'mainnet').amount).toBe(
      2_099_999_997_690_000n,
    );
    expect(
      uriError(() => parsePaymentUri(`bitcoin:${address}?amount=0.000000001`, 'mainnet')),
    ).toMatch(/at most 8 decimals/);
    expect(uriError(() => parsePaymentUri(`bitcoin:${address}?amount=1e-8`, 'mainnet'))).toMatch(
      /got "1e-8"/,
    );
    expect(
      uriError(() => parsePaymentUri(`bitcoin:${address}?amount=50,000.00`, 'mainnet')),
    ).toMatch(/amount/);
    expect(
      uriError(() => parsePaymentUri(`bitcoin:${address}?amount=1&amount=2`, 'mainnet')),
    ).toMatch(/more than once/);
  });

  it('refuses an address for another network, a bad scheme and bad percent-encoding', () => {
    expect(uriError(() => parsePaymentUri(`bitcoin:${VALID_P2PKH}`, 'testnet'))).toMatch(
      /is for mainnet, not testnet/,
    );
    expect(uriError(() => parsePaymentUri(`litecoin:${VALID_P2PKH}`, 'mainnet'))).toMatch(
      /bitcoin:/,
    );
    expect(
      uriError(() => parsePaymentUri(`bitcoin:${VALID_P2PKH}?label=%E2%82`, 'mainnet')),
    ).toMatch(/malformed percent-encoding/);
  });

  it('builds the BIP21 example with message', () => {
    expect(
      buildPaymentUri({
        address: BIP21_ADDRESS,
        amount: sats(5_000_000_000n),
        label: 'Luke-Jr',
        message: 'Donation for project xyz',
      }),
    ).toBe(v.examples[3]?.uri);
  });

  it('round-trips any amount, label and message (property)', () => {
    const address = 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu';
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 2_100_000_000_000_000n }),
        fc.option(fc.string({ unit: 'grapheme' }), { nil: undefined }),
        fc.option(fc.string({ unit: 'grapheme' }), { nil: undefined }),
        (amount, label, message) => {
          const uri = buildPaymentUri({
            address,
            amount: sats(amount),
            label,
            message,
            network: 'mainnet',
          });
          const parsed = parsePaymentUri(uri, 'mainnet');
          expect(parsed.amount).toBe(amount);
          expect(parsed.label).toBe(label);
          expect(parsed.message).toBe(message);
        },
      ),
    );
  });
});
