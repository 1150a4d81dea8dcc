import {
  blockHashBytes,
  concatBytes,
  fromHex,
  merkleRoot,
  serializeBlock,
  serializeTx,
  toReversedHex,
  witnessCommitment,
  witnessMerkleRoot,
  WITNESS_COMMITMENT_HEADER,
} from '../../bitcoin';
import {
  NULL_TXID,
  parseBlock,
  parseTx,
  type Block,
  type BlockHeader,
  type Tx,
  type TxOutput,
} from './model';
import { pushData, pushNumber, OP_0, OP_RETURN } from './script';

/** Regtest consensus parameters (Bitcoin Core, kernel/chainparams.cpp, CRegTestParams). */
export const REGTEST = {
  /** Regtest's minimum difficulty, never retargeted (fPowNoRetargeting). */
  bits: 0x207fffff,
  subsidyHalvingInterval: 150,
  coinbaseMaturity: 100,
  initialSubsidy: 50n * 100_000_000n,
  /** BIP141 MAX_BLOCK_WEIGHT. */
  maxBlockWeight: 4_000_000,
  /** Version with the BIP9 top bits set, as Bitcoin Core's miner produces. */
  blockVersion: 0x20000000,
  genesisHash: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
} as const;

/** GetBlockSubsidy: 50 BTC halved every 150 blocks on regtest, zero after 64 halvings. */
export function blockSubsidy(height: number): bigint {
  const halvings = Math.floor(height / REGTEST.subsidyHalvingInterval);
  if (halvings >= 64) return 0n;
  return REGTEST.initialSubsidy >> BigInt(halvings);
}

/** arith_uint256::SetCompact. */
export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  return exponent <= 3
    ? mantissa >> BigInt(8 * (3 - exponent))
    : mantissa << BigInt(8 * (exponent - 3));
}

/** GetBlockProof: the expected number of hashes, 2^256 / (target + 1). */
export function blockWork(bits: number): bigint {
  return (1n << 256n) / (targetFromBits(bits) + 1n);
}

export function hashMeetsTarget(hash: Uint8Array, bits: number): boolean {
  // The hash is compared as a little-endian 256-bit number.
  let value = 0n;
  for (let i = hash.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(hash[i]!);
  return value <= targetFromBits(bits);
}

/** Bitcoin Core's GetDifficulty (rpc/blockchain.cpp), a float like theirs. */
export function difficulty(bits: number): number {
  let shift = (bits >>> 24) & 0xff;
  let value = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    value *= 256;
    shift++;
  }
  while (shift > 29) {
    value /= 256;
    shift--;
  }
  return value;
}

/** Grinds the nonce until the header meets its target (about two tries at regtest difficulty). */
export function grind(header: Omit<BlockHeader, 'nonce'>): BlockHeader {
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    const candidate = { ...header, nonce };
    if (hashMeetsTarget(blockHashBytes(candidate), header.bits)) return candidate;
  }
  throw new Error('no nonce meets the target; change the time or coinbase and retry');
}

/**
 * The regtest genesis block, built field by field from Bitcoin Core's CreateGenesisBlock: the
 * Times headline coinbase, 50 BTC to Satoshi's key, time 1296688602, nonce 2.
 */
export function regtestGenesis(): Block {
  const coinbase = parseTx(
    serializeTx({
      version: 1,
      inputs: [
        {
          prevTxidBytes: NULL_TXID,
          vout: 0xffffffff,
          scriptSig: concatBytes(
            fromHex('04ffff001d0104'),
            pushData(
              new TextEncoder().encode(
                'The Times 03/Jan/2009 Chancellor on brink of second bailout for banks',
              ),
            ),
          ),
          sequence: 0xffffffff,
          witness: [],
        },
      ],
      outputs: [
        {
          value: 50n * 100_000_000n,
          script: concatBytes(
            pushData(
              fromHex(
                '04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f',
              ),
            ),
            Uint8Array.of(0xac),
          ),
        },
      ],
      lockTime: 0,
    }),
  );
  const header: BlockHeader = {
    version: 1,
    prevHash: new Uint8Array(32),
    merkleRoot: merkleRoot([coinbase.txidBytes]),
    time: 1296688602,
    bits: REGTEST.bits,
    nonce: 2,
  };
  return parseBlock(serializeBlock(header, [coinbase]));
}

/** BIP141's witness reserved value: 32 zero bytes in the coinbase witness. */
const WITNESS_RESERVED_VALUE = new Uint8Array(32);

/**
 * A coinbase for `height` (BIP34: the height pushed first in the scriptSig, then OP_0 as
 * Bitcoin Core's miner does, which also keeps heights 1–16 at the 2-byte minimum), paying
 * `value` to `payTo`, with the BIP141 witness commitment when `txs` carry witness data.
 */
export function buildCoinbase(
  height: number,
  payTo: Uint8Array,
  value: bigint,
  txs: readonly Tx[],
  extraNonce = 0,
): Tx {
  const withWitness = txs.some((tx) => tx.hasWitness);
  const outputs: TxOutput[] = [{ value, script: payTo }];
  const scriptSigParts = [pushNumber(height), Uint8Array.of(OP_0)];
  // An extra nonce keeps competing blocks at one height paying one address distinct.
  if (extraNonce !== 0) scriptSigParts.push(pushNumber(extraNonce));
  const scriptSig = concatBytes(...scriptSigParts);
  if (withWitness) {
    // The root needs the coinbase only as a placeholder (its wtxid counts as zero).
    const root = witnessMerkleRoot([NULL_TXID, ...txs.map((tx) => tx.wtxidBytes)]);
    const commitment = witnessCommitment(root, WITNESS_RESERVED_VALUE);
    outputs.push({
      value: 0n,
      script: concatBytes(Uint8Array.of(OP_RETURN, 0x24), WITNESS_COMMITMENT_HEADER, commitment),
    });
  }
  return parseTx(
    serializeTx({
      version: 2,
      inputs: [
        {
          prevTxidBytes: NULL_TXID,
          vout: 0xffffffff,
          scriptSig,
          sequence: 0xffffffff,
          witness: withWitness ? [WITNESS_RESERVED_VALUE] : [],
        },
      ],
      outputs,
      lockTime: 0,
    }),
  );
}

export interface AssembleOptions {
  readonly prevHash: Uint8Array;
  readonly height: number;
  readonly time: number;
  readonly payTo: Uint8Array;
  readonly coinbaseValue: bigint;
  readonly txs: readonly Tx[];
  readonly extraNonce?: number;
}

/** Builds and grinds a block: coinbase, merkle root, proof of work. */
export function assembleBlock(options: AssembleOptions): Block {
  const coinbase = buildCoinbase(
    options.height,
    options.payTo,
    options.coinbaseValue,
    options.txs,
    options.extraNonce,
  );
  const txs = [coinbase, ...options.txs];
  const header = grind({
    version: REGTEST.blockVersion,
    prevHash: options.prevHash,
    merkleRoot: merkleRoot(txs.map((tx) => tx.txidBytes)),
    time: options.time,
    bits: REGTEST.bits,
  });
  return { ...parseBlockFast(header, txs) };
}

function parseBlockFast(header: BlockHeader, txs: readonly Tx[]): Block {
  const raw = serializeBlock(header, txs);
  const strippedSize = raw.length - txs.reduce((sum, tx) => sum + tx.size - tx.strippedSize, 0);
  return {
    header,
    hash: toReversedHex(blockHashBytes(header)),
    txs,
    raw,
    size: raw.length,
    strippedSize,
    weight: strippedSize * 3 + raw.length,
  };
}
