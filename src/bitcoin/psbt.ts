import { Transaction } from '@scure/btc-signer';
import { HDKey } from '@scure/bip32';
import { AppError, sats, type NetworkName } from '../kernel';
import { parseAddress } from './address';
import { BIP32_VERSIONS } from './networks';
import { fromReversedHex, toHex } from './bytes';
import { scriptType, type ScriptType } from './script';

/**
 * PSBTs (BIP174, and BIP370 version 2 on request) over @scure/btc-signer: create from selected
 * coins, sign through the Signer port, finalize, extract. Supported spends: P2WPKH, P2TR key
 * path and P2WSH multisig (the scheme's wallet types); outputs may be any script.
 */

export interface KeyDerivation {
  readonly pubkey: Uint8Array;
  /** Master key fingerprint (BIP32), as a 32-bit number. */
  readonly fingerprint: number;
  readonly path: readonly number[];
}

export interface PsbtInputSpec {
  /** Display hex txid of the coin being spent. */
  readonly txid: string;
  readonly vout: number;
  readonly value: bigint;
  readonly scriptPubKey: Uint8Array;
  /** Required for P2WSH. */
  readonly witnessScript?: Uint8Array;
  /** Required for P2TR (x-only, 32 bytes). */
  readonly tapInternalKey?: Uint8Array;
  /** Which keys can sign, so a signer holding the master key finds them (BIP174/371). */
  readonly derivations?: readonly KeyDerivation[];
  readonly sequence?: number;
}

export type PsbtOutputSpec = (
  | { readonly address: string; readonly script?: undefined }
  | { readonly script: Uint8Array; readonly address?: undefined }
) & {
  readonly amount: bigint;
  /** For change outputs: lets a signer recognise the output as its own. */
  readonly derivations?: readonly KeyDerivation[];
};

export interface CreatePsbtOptions {
  readonly network: NetworkName;
  readonly inputs: readonly PsbtInputSpec[];
  readonly outputs: readonly PsbtOutputSpec[];
  readonly locktime?: number;
  /** 0 (BIP174, the default: what most wallets read) or 2 (BIP370). */
  readonly psbtVersion?: 0 | 2;
}

function psbtError(message: string, cause?: unknown): AppError {
  return new AppError('INVALID_PSBT', message, cause === undefined ? {} : { cause });
}

const TX_OPTIONS = { allowUnknownOutputs: true } as const;

function inputType(spec: PsbtInputSpec, index: number): 'p2wpkh' | 'p2tr' | 'p2wsh' {
  const type = scriptType(spec.scriptPubKey);
  if (type === 'p2wpkh') return type;
  if (type === 'p2tr') {
    if (spec.tapInternalKey?.length !== 32)
      throw psbtError(`inputs[${index}]: a P2TR input needs its 32-byte tapInternalKey`);
    return type;
  }
  if (type === 'p2wsh') {
    if (!spec.witnessScript)
      throw psbtError(`inputs[${index}]: a P2WSH input needs its witnessScript`);
    return type;
  }
  throw psbtError(
    `inputs[${index}]: spending ${type} outputs is not supported (P2WPKH, P2TR, P2WSH only)`,
  );
}

/** Creates an unsigned PSBT. The fee is inputs minus outputs; it must not be negative. */
export function createPsbt(options: CreatePsbtOptions): Uint8Array {
  if (options.inputs.length === 0) throw psbtError('a PSBT needs at least one input');
  if (options.outputs.length === 0) throw psbtError('a PSBT needs at least one output');
  const tx = new Transaction({ ...TX_OPTIONS, version: 2, lockTime: options.locktime ?? 0 });
  let inputTotal = 0n;
  options.inputs.forEach((spec, index) => {
    const type = inputType(spec, index);
    if (!Number.isInteger(spec.vout) || spec.vout < 0)
      throw psbtError(`inputs[${index}].vout must be a non-negative integer`);
    inputTotal += sats(spec.value, `inputs[${index}].value`);
    const derivations = spec.derivations ?? [];
    tx.addInput({
      txid: fromReversedHex(spec.txid, `inputs[${index}].txid`).reverse(),
      index: spec.vout,
      witnessUtxo: { script: spec.scriptPubKey, amount: spec.value },
      ...(spec.sequence !== undefined ? { sequence: spec.sequence } : {}),
      ...(type === 'p2wsh' && spec.witnessScript ? { witnessScript: spec.witnessScript } : {}),
      ...(type === 'p2tr' && spec.tapInternalKey
        ? {
            tapInternalKey: spec.tapInternalKey,
            tapBip32Derivation: derivations.map(
              (d) =>
                [
                  xOnly(d.pubkey),
                  { hashes: [], der: { fingerprint: d.fingerprint, path: [...d.path] } },
                ] as const,
            ),
          }
        : {
            bip32Derivation: derivations.map(
              (d) => [d.pubkey, { fingerprint: d.fingerprint, path: [...d.path] }] as const,
            ),
          }),
    });
  });
  let outputTotal = 0n;
  options.outputs.forEach((spec, index) => {
    const amount = sats(spec.amount, `outputs[${index}].amount`);
    outputTotal += amount;
    let script: Uint8Array;
    if (spec.address !== undefined) {
      try {
        script = parseAddress(spec.address, options.network).scriptPubKey;
      } catch (error) {
        throw psbtError(
          `outputs[${index}].address: ${error instanceof Error ? error.message : String(error)}`,
          error,
        );
      }
    } else script = spec.script;
    const derivations = spec.derivations ?? [];
    const isTaproot = scriptType(script) === 'p2tr';
    tx.addOutput({
      script,
      amount,
      ...(derivations.length === 0
        ? {}
        : isTaproot
          ? {
              tapBip32Derivation: derivations.map(
                (d) =>
                  [
                    xOnly(d.pubkey),
                    { hashes: [], der: { fingerprint: d.fingerprint, path: [...d.path] } },
                  ] as const,
              ),
            }
          : {
              bip32Derivation: derivations.map(
                (d) => [d.pubkey, { fingerprint: d.fingerprint, path: [...d.path] }] as const,
              ),
            }),
    });
  });
  if (outputTotal > inputTotal) {
    throw psbtError(`outputs total ${outputTotal} sats, more than the inputs' ${inputTotal} sats`);
  }
  return tx.toPSBT(options.psbtVersion ?? 0);
}

function xOnly(pubkey: Uint8Array): Uint8Array {
  return pubkey.length === 33 ? pubkey.subarray(1) : pubkey;
}

function loadPsbt(psbt: Uint8Array): Transaction {
  try {
    return Transaction.fromPSBT(psbt, TX_OPTIONS);
  } catch (error) {
    throw psbtError(
      `PSBT could not be decoded: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
}

/** The Signer port: PSBT in, PSBT with this signer's signatures out (BIP174 Signer role). */
export interface Signer {
  signPsbt(psbt: Uint8Array): Promise<Uint8Array>;
}

/**
 * Signs with a BIP32 key held in memory, for simnet and demos only: production keys stay in an
 * external signer. It signs every input whose BIP32 derivation names its master fingerprint;
 * btc-signer checks that the derived key is the one the input's script pays to.
 */
export class LocalKeySigner implements Signer {
  readonly #master: HDKey;
  readonly fingerprint: number;

  constructor(master: HDKey) {
    if (!master.privateKey)
      throw new AppError('VALIDATION_FAILED', 'LocalKeySigner needs a private (xprv) key');
    this.#master = master;
    this.fingerprint = master.fingerprint;
  }

  static fromSeed(seed: Uint8Array, network: NetworkName): LocalKeySigner {
    return new LocalKeySigner(HDKey.fromMasterSeed(seed, BIP32_VERSIONS[network]));
  }

  /** From a BIP32 extended private key (xprv/tprv) of `network`. */
  static fromExtendedKey(extendedKey: string, network: NetworkName): LocalKeySigner {
    let master: HDKey;
    try {
      master = HDKey.fromExtendedKey(extendedKey.trim(), BIP32_VERSIONS[network]);
    } catch (error) {
      throw new AppError(
        'CONFIG_INVALID',
        `the signing key is not a BIP32 extended private key of ${network}`,
        { cause: error },
      );
    }
    return new LocalKeySigner(master);
  }

  /** The account xpub at `path` (e.g. "m/84'/1'/0'"), for a watch-only descriptor. */
  accountXpub(path: string): string {
    return this.#master.derive(path).publicExtendedKey;
  }

  signPsbt(psbt: Uint8Array): Promise<Uint8Array> {
    const tx = loadPsbt(psbt);
    let signed: number;
    try {
      signed = tx.sign(signingKey(this.#master));
    } catch (error) {
      return Promise.reject(
        psbtError(
          `no input of this PSBT can be signed by key ${this.fingerprint.toString(16).padStart(8, '0')}`,
          error,
        ),
      );
    }
    if (signed === 0) return Promise.reject(psbtError('no input was signed'));
    return Promise.resolve(tx.toPSBT(tx.opts.PSBTVersion ?? 0));
  }
}

type BtcSignerKey = Exclude<Parameters<Transaction['sign']>[0], Uint8Array>;

/** btc-signer's structural HD key type, over a @scure/bip32 key that holds its private key. */
function signingKey(key: HDKey): BtcSignerKey {
  const { publicKey, privateKey } = key;
  if (!publicKey || !privateKey) throw psbtError('signing key has no private key');
  return {
    publicKey,
    privateKey,
    fingerprint: key.fingerprint,
    derive: (path: string) => signingKey(key.derive(path)),
    deriveChild: (index: number) => signingKey(key.deriveChild(index)),
    sign: (hash: Uint8Array) => key.sign(hash),
  };
}

/** Finalizes every input (BIP174 Input Finalizer); fails naming the first input that cannot be. */
export function finalizePsbt(psbt: Uint8Array): Uint8Array {
  const tx = loadPsbt(psbt);
  for (let i = 0; i < tx.inputsLength; i++) {
    try {
      tx.finalizeIdx(i);
    } catch (error) {
      throw psbtError(
        `input ${i} cannot be finalized: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
  }
  return tx.toPSBT(tx.opts.PSBTVersion ?? 0);
}

export interface ExtractedTransaction {
  readonly raw: Uint8Array;
  readonly txid: string;
  readonly weight: number;
  readonly vsize: number;
  readonly fee: bigint;
}

/** Extracts the network transaction from a finalized PSBT (BIP174 Transaction Extractor). */
export function extractTransaction(psbt: Uint8Array): ExtractedTransaction {
  const tx = loadPsbt(psbt);
  if (!tx.isFinal) throw psbtError('PSBT is not finalized: every input needs its final witness');
  const raw = tx.extract();
  return { raw, txid: tx.id, weight: tx.weight, vsize: tx.vsize, fee: sats(tx.fee) };
}

export interface PsbtSummary {
  readonly inputs: readonly {
    txid: string;
    vout: number;
    value: bigint;
    type: ScriptType;
    signed: boolean;
  }[];
  readonly outputs: readonly { script: string; type: ScriptType; amount: bigint }[];
  readonly fee: bigint;
  readonly final: boolean;
}

/** What a PSBT spends and pays, for review and approval screens. */
export function summarizePsbt(psbt: Uint8Array): PsbtSummary {
  const tx = loadPsbt(psbt);
  const inputs = [];
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    const utxo = input.witnessUtxo;
    if (!utxo || !input.txid || input.index === undefined)
      throw psbtError(`input ${i} has no witness UTXO`);
    inputs.push({
      txid: toHex(Uint8Array.from(input.txid).reverse()),
      vout: input.index,
      value: sats(utxo.amount),
      type: scriptType(utxo.script),
      signed: Boolean(
        input.finalScriptWitness || input.tapKeySig || (input.partialSig?.length ?? 0) > 0,
      ),
    });
  }
  const outputs = [];
  for (let o = 0; o < tx.outputsLength; o++) {
    const output = tx.getOutput(o);
    if (!output.script || output.amount === undefined)
      throw psbtError(`output ${o} has no script or amount`);
    outputs.push({
      script: toHex(output.script),
      type: scriptType(output.script),
      amount: sats(output.amount),
    });
  }
  return { inputs, outputs, fee: sats(tx.fee), final: tx.isFinal };
}
