import { addDescriptorChecksum, toHex } from '../../bitcoin';
import { difficulty } from './consensus';
import { isCoinbase, type Tx } from './model';
import type { BlockEntry, Simnet } from './simnet';
import { classifyOutput, parseMultisig, scriptToAddress, scriptToAsm } from './script';
import { Btc, RPC_ERRORS, RpcError, hash, type Json, type JsonObject } from './rpc-json';

/**
 * The result shapes of the simnet RPC server, field for field those of Bitcoin Core
 * (core_write.cpp's TxToUniv, blockchain.cpp's blockheaderToJSON, mempool.cpp's entryToJSON).
 */

/** InferDescriptor for a bare output script (no key origin information). */
function inferDescriptor(script: Uint8Array, address: string | undefined): string {
  const type = classifyOutput(script);
  let descriptor: string;
  if (type === 'witness_v1_taproot') descriptor = `rawtr(${toHex(script.subarray(2))})`;
  else if (type === 'pubkey') descriptor = `pk(${toHex(script.subarray(1, script.length - 1))})`;
  else if (type === 'multisig') {
    const multisig = parseMultisig(script)!;
    descriptor = `multi(${multisig.m},${multisig.pubkeys.map(toHex).join(',')})`;
  } else if (address) descriptor = `addr(${address})`;
  else descriptor = `raw(${toHex(script)})`;
  return addDescriptorChecksum(descriptor);
}

function scriptPubKeyJson(simnet: Simnet, script: Uint8Array): Json {
  const address = scriptToAddress(script, simnet.network);
  return {
    asm: scriptToAsm(script),
    desc: inferDescriptor(script, address),
    hex: toHex(script),
    address,
    type: classifyOutput(script),
  };
}

/** The `prevout` of an input at verbosity 3 (TxToUniv with undo data). */
function prevoutJson(simnet: Simnet, txid: string, vout: number): Json | undefined {
  const spent = simnet.previousOutput(txid, vout);
  if (!spent) return undefined;
  return {
    generated: spent.coinbase,
    height: spent.height ?? undefined,
    value: new Btc(spent.value),
    scriptPubKey: scriptPubKeyJson(simnet, spent.script),
  };
}

/** TxToUniv (core_write.cpp); `withPrevouts` adds each input's spent output (verbosity 3). */
export function txJson(simnet: Simnet, tx: Tx, fee?: bigint, withPrevouts = false): JsonObject {
  const coinbase = isCoinbase(tx);
  return {
    txid: tx.txid,
    hash: tx.wtxid,
    version: tx.version,
    size: tx.size,
    vsize: tx.vsize,
    weight: tx.weight,
    locktime: tx.lockTime,
    vin: tx.inputs.map((input) => {
      const witness = input.witness.length > 0 ? input.witness.map(toHex) : undefined;
      if (coinbase)
        return { coinbase: toHex(input.scriptSig), txinwitness: witness, sequence: input.sequence };
      return {
        txid: input.prevTxid,
        vout: input.vout,
        scriptSig: { asm: scriptToAsm(input.scriptSig), hex: toHex(input.scriptSig) },
        txinwitness: witness,
        prevout: withPrevouts ? prevoutJson(simnet, input.prevTxid, input.vout) : undefined,
        sequence: input.sequence,
      };
    }),
    vout: tx.outputs.map((output, n) => ({
      value: new Btc(output.value),
      n,
      scriptPubKey: scriptPubKeyJson(simnet, output.script),
    })),
    fee: fee === undefined ? undefined : new Btc(fee),
    hex: toHex(tx.raw),
  };
}

export function chainWorkHex(work: bigint): string {
  return work.toString(16).padStart(64, '0');
}

export function headerJson(simnet: Simnet, entry: BlockEntry): JsonObject {
  const header = entry.block.header;
  return {
    hash: entry.hash,
    confirmations: simnet.confirmations(entry.hash),
    height: entry.height,
    version: header.version,
    versionHex: (header.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: toHex(header.merkleRoot.slice().reverse()),
    time: header.time,
    mediantime: simnet.medianTimePast(entry.hash),
    nonce: header.nonce,
    bits: header.bits.toString(16).padStart(8, '0'),
    difficulty: Number(difficulty(header.bits).toPrecision(16)),
    chainwork: chainWorkHex(entry.chainWork),
    nTx: entry.block.txs.length,
    previousblockhash: entry.prevHash ?? undefined,
    nextblockhash: simnet.nextActive(entry.hash),
  };
}

export function requireBlock(simnet: Simnet, value: unknown, name = 'blockhash'): BlockEntry {
  const entry = simnet.block(hash(value, name));
  if (!entry) throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Block not found');
  return entry;
}

export function feeRateBtcPerKvB(fee: bigint, vsize: number): Btc {
  return new Btc((fee * 1000n) / BigInt(vsize));
}

export function mempoolEntryJson(simnet: Simnet, txid: string): Json {
  const entry = simnet.mempoolEntry(txid)!;
  const pool = simnet.mempoolEntries();
  const byId = new Map(pool.map((item) => [item.tx.txid, item]));
  const walk = (start: string, next: (id: string) => Iterable<string>): Set<string> => {
    const seen = new Set<string>([start]);
    const stack = [start];
    while (stack.length > 0) {
      for (const id of next(stack.pop()!)) {
        if (!seen.has(id)) {
          seen.add(id);
          stack.push(id);
        }
      }
    }
    return seen;
  };
  const ancestors = walk(txid, (id) => byId.get(id)?.parents ?? []);
  const descendants = walk(txid, (id) => byId.get(id)?.children ?? []);
  const sum = (ids: Set<string>, pick: (id: string) => bigint) =>
    [...ids].reduce((total, id) => total + pick(id), 0n);
  return {
    vsize: entry.tx.vsize,
    weight: entry.tx.weight,
    time: entry.time,
    height: entry.height,
    descendantcount: descendants.size,
    descendantsize: Number(sum(descendants, (id) => BigInt(byId.get(id)!.tx.vsize))),
    ancestorcount: ancestors.size,
    ancestorsize: Number(sum(ancestors, (id) => BigInt(byId.get(id)!.tx.vsize))),
    wtxid: entry.tx.wtxid,
    fees: {
      base: new Btc(entry.fee),
      modified: new Btc(entry.fee),
      ancestor: new Btc(sum(ancestors, (id) => byId.get(id)!.fee)),
      descendant: new Btc(sum(descendants, (id) => byId.get(id)!.fee)),
    },
    depends: [...entry.parents],
    spentby: [...entry.children],
    'bip125-replaceable': entry.tx.inputs.some((input) => input.sequence < 0xfffffffe),
    unbroadcast: false,
  };
}
