import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { p2ms, p2pkh, p2tr, p2wpkh, p2wsh, Transaction } from '@scure/btc-signer';
import { sql } from 'drizzle-orm';
import { SIMNET_MIGRATIONS, type Simnet, type SimnetUtxo as Utxo } from '../../src/chain';
import type { Database } from '../../src/db';

/**
 * Test and benchmark helpers: deterministic keys, their regtest addresses, and transactions
 * signed by @scure/btc-signer (an implementation independent of simnet's verifier).
 */

export const REGTEST_NETWORK = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };

export interface TestKey {
  readonly secret: Uint8Array;
  readonly pubkey: Uint8Array;
  readonly xOnly: Uint8Array;
}

/** A key derived from a label (sha256 of it), so tests are reproducible. */
export function testKey(label: string): TestKey {
  const secret = sha256(new TextEncoder().encode(`simnet test key ${label}`));
  return {
    secret,
    pubkey: secp256k1.getPublicKey(secret, true),
    xOnly: schnorr.getPublicKey(secret),
  };
}

export function p2wpkhOf(key: TestKey) {
  return p2wpkh(key.pubkey, REGTEST_NETWORK);
}

export function p2trOf(key: TestKey) {
  return p2tr(key.xOnly, undefined, REGTEST_NETWORK);
}

export function p2pkhOf(key: TestKey) {
  return p2pkh(key.pubkey, REGTEST_NETWORK);
}

export function multisigOf(m: number, keys: readonly TestKey[]) {
  return p2wsh(
    p2ms(
      m,
      keys.map((key) => key.pubkey),
    ),
    REGTEST_NETWORK,
  );
}

export interface SpendInput {
  readonly utxo: Pick<Utxo, 'txid' | 'vout' | 'value' | 'script'>;
  readonly sequence?: number;
  /** Extra PSBT fields (tapInternalKey, witnessScript). */
  readonly extra?: Record<string, unknown>;
}

export interface SpendOutput {
  readonly script: Uint8Array;
  readonly value: bigint;
}

/** A transaction spending `inputs` to `outputs`, signed with `signers` and finalized by btc-signer. */
export function signedTx(
  inputs: readonly SpendInput[],
  outputs: readonly SpendOutput[],
  signers: readonly Uint8Array[],
  options: { version?: number; lockTime?: number; allowedSighash?: number[] } = {},
): Transaction {
  const tx = new Transaction({
    version: options.version ?? 2,
    lockTime: options.lockTime ?? 0,
    allowUnknownOutputs: true,
    // Legacy (P2PKH) inputs are signed from witnessUtxo alone, for tests that need one.
    allowLegacyWitnessUtxo: true,
  });
  for (const input of inputs) {
    tx.addInput({
      txid: input.utxo.txid,
      index: input.utxo.vout,
      witnessUtxo: { script: input.utxo.script, amount: input.utxo.value },
      sequence: input.sequence ?? 0xfffffffd,
      ...input.extra,
    });
  }
  for (const output of outputs) tx.addOutput({ script: output.script, amount: output.value });
  for (const signer of signers) tx.sign(signer, options.allowedSighash);
  tx.finalize();
  return tx;
}

/**
 * Clears simnet's tables so a test starts from an empty chain (creating them first: a test
 * database has the platform's migrations only, simnet's set is applied when simnet opens).
 */
export async function resetSimnet(db: Database): Promise<void> {
  await db.migrate(SIMNET_MIGRATIONS);
  await db.orm.execute(sql`delete from simnet_mempool`);
  await db.orm.execute(sql`delete from simnet_blocks`);
}

/** Mines enough blocks to `script` that `mature` coinbase outputs are spendable; returns them. */
export async function fund(simnet: Simnet, script: Uint8Array, mature: number): Promise<Utxo[]> {
  await simnet.mine(mature + 100, script);
  const height = simnet.height;
  return simnet
    .listUnspent(script)
    .filter((utxo) => !utxo.coinbase || height + 1 - utxo.height >= 100);
}
