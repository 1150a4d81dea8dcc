import { NETWORK, TEST_NETWORK } from '@scure/btc-signer';
import { AppError, NETWORK_NAMES, type NetworkName } from '../kernel';

/** The network parameters @scure/btc-signer takes (bech32 prefix, base58 version bytes, WIF). */
export interface BtcSignerNetwork {
  readonly bech32: string;
  readonly pubKeyHash: number;
  readonly scriptHash: number;
  readonly wif: number;
}

/**
 * btc-signer network objects per name. Testnet and signet share every prefix (BIP325 signet
 * reuses testnet's address formats); regtest shares testnet's base58 versions but has its own
 * bech32 prefix "bcrt" (Bitcoin Core chainparams).
 */
export const BTC_SIGNER_NETWORKS: Readonly<Record<NetworkName, BtcSignerNetwork>> = {
  mainnet: NETWORK,
  testnet: TEST_NETWORK,
  signet: TEST_NETWORK,
  regtest: { ...TEST_NETWORK, bech32: 'bcrt' },
};

/** BIP32 serialization versions: xpub/xprv on mainnet, tpub/tprv everywhere else. */
export interface Bip32Versions {
  readonly public: number;
  readonly private: number;
}

export const BIP32_VERSIONS: Readonly<Record<NetworkName, Bip32Versions>> = {
  mainnet: { public: 0x0488b21e, private: 0x0488ade4 },
  testnet: { public: 0x043587cf, private: 0x04358394 },
  signet: { public: 0x043587cf, private: 0x04358394 },
  regtest: { public: 0x043587cf, private: 0x04358394 },
};

/** P2P message start bytes, which also frame blocks in Bitcoin Core's blk*.dat files. */
export const NETWORK_MAGIC: Readonly<Record<NetworkName, number>> = {
  mainnet: 0xf9beb4d9,
  testnet: 0x0b110907,
  signet: 0x0a03cf40,
  regtest: 0xfabfb5da,
};

export function btcSignerNetwork(network: NetworkName): BtcSignerNetwork {
  return BTC_SIGNER_NETWORKS[assertNetwork(network)];
}

/** Checks a network name coming from outside (config, CLI, API). */
export function assertNetwork(value: string, field = 'network'): NetworkName {
  if (!(NETWORK_NAMES as readonly string[]).includes(value)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${field} must be one of ${NETWORK_NAMES.join(', ')}, got "${value}"`,
      { issues: [{ field, message: `unknown network "${value}"` }] },
    );
  }
  return value as NetworkName;
}

/** Networks that share an address encoding, named for error messages ("testnet or signet"). */
export function networksForBech32Prefix(prefix: string): NetworkName[] {
  return NETWORK_NAMES.filter((name) => BTC_SIGNER_NETWORKS[name].bech32 === prefix);
}

export function networksForBase58Version(version: number): NetworkName[] {
  return NETWORK_NAMES.filter(
    (name) =>
      BTC_SIGNER_NETWORKS[name].pubKeyHash === version ||
      BTC_SIGNER_NETWORKS[name].scriptHash === version,
  );
}

export function describeNetworks(names: readonly NetworkName[]): string {
  if (names.length <= 1) return names[0] ?? 'no known network';
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
