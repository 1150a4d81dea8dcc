import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as bitcoinjs from 'bitcoinjs-lib';
import * as ecc from '@bitcoinerlab/secp256k1';
import { NETWORK_NAMES, type NetworkName } from '../kernel';
import { addressFromScript, parseAddress } from './address';
import { fromHex, toHex } from './bytes';
import { scriptType } from './script';

bitcoinjs.initEccLib(ecc);

const bitcoinjsNetworks: Record<NetworkName, bitcoinjs.Network> = {
  mainnet: bitcoinjs.networks.bitcoin,
  testnet: bitcoinjs.networks.testnet,
  signet: bitcoinjs.networks.testnet,
  regtest: bitcoinjs.networks.regtest,
};

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return 'no error';
}

describe('parseAddress', () => {
  // Satoshi's genesis address: hash160 of the genesis coinbase public key (known since 2009).
  it('parses the genesis P2PKH address', () => {
    const parsed = parseAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', 'mainnet');
    expect(parsed.type).toBe('p2pkh');
    expect(toHex(parsed.scriptPubKey)).toBe('76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac');
  });

  it('names the network an address belongs to', () => {
    expect(message(() => parseAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', 'testnet'))).toMatch(
      /is for mainnet, not testnet/,
    );
    const tb = 'tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7';
    expect(message(() => parseAddress(tb, 'mainnet'))).toMatch(
      /is for testnet or signet \(prefix "tb"\), not mainnet/,
    );
    expect(message(() => parseAddress(tb, 'regtest'))).toMatch(/not regtest \(prefix "bcrt"\)/);
    // testnet base58 versions are shared with signet and regtest: valid on all three.
    const p2sh = addressFromScript(fromHex('a914' + '11'.repeat(20) + '87'), 'testnet');
    expect(parseAddress(p2sh, 'regtest').type).toBe('p2sh');
    expect(message(() => parseAddress(p2sh, 'mainnet'))).toMatch(
      /is for testnet, signet or regtest, not mainnet/,
    );
  });

  it('reports a bad base58 checksum and a bad length', () => {
    expect(message(() => parseAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', 'mainnet'))).toMatch(
      /bad checksum/,
    );
    expect(message(() => parseAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf', 'mainnet'))).toMatch(
      /decodes to 24 bytes/,
    );
    expect(message(() => parseAddress('', 'mainnet'))).toBe('address must not be empty');
  });

  it('returns the lowercase form as canonical', () => {
    const parsed = parseAddress('BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'mainnet');
    expect(parsed.canonical).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
  });

  const outputScript = fc.oneof(
    fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => fromHex(`76a914${toHex(h)}88ac`)),
    fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => fromHex(`a914${toHex(h)}87`)),
    fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => fromHex(`0014${toHex(h)}`)),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((h) => fromHex(`0020${toHex(h)}`)),
    fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .filter((x) => ecc.isXOnlyPoint(x))
      .map((h) => fromHex(`5120${toHex(h)}`)),
  );

  it('agrees with bitcoinjs-lib on every network (property)', () => {
    fc.assert(
      fc.property(outputScript, fc.constantFrom(...NETWORK_NAMES), (script, network) => {
        const ours = addressFromScript(script, network);
        expect(ours).toBe(bitcoinjs.address.fromOutputScript(script, bitcoinjsNetworks[network]));
        const parsed = parseAddress(ours, network);
        expect(toHex(parsed.scriptPubKey)).toBe(toHex(script));
        expect(parsed.type).toBe(scriptType(script));
      }),
      { numRuns: 300 },
    );
  });
});

describe('scriptType', () => {
  it('classifies the standard templates', () => {
    const key = '02' + '11'.repeat(32);
    expect(scriptType(fromHex(`6a04deadbeef`))).toBe('op_return');
    expect(scriptType(fromHex(`5121${key}21${key}52ae`))).toBe('multisig');
    expect(scriptType(fromHex(`21${key}ac`))).toBe('p2pk');
    expect(scriptType(fromHex(`5321${key}21${key}52ae`))).toBe('nonstandard');
    expect(scriptType(new Uint8Array())).toBe('nonstandard');
  });
});
