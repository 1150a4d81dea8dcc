import { serializeRawBlockHeader, toHex } from '../../bitcoin';
import { difficulty } from './consensus';
import type { Tx } from './model';
import {
  RPC_ERRORS,
  RpcError,
  bool,
  hash,
  integer,
  required,
  verbosity,
  type Json,
  type JsonObject,
  type RpcMethod,
} from './rpc-json';
import { chainWorkHex, headerJson, requireBlock, txJson } from './rpc-shapes';

/**
 * The blockchain family of the simnet RPC server (Bitcoin Core's rpc/blockchain.cpp, with
 * getrawtransaction from rpc/rawtransaction.cpp): reads of the chain, its blocks and its
 * transactions, and the invalidateblock/reconsiderblock controls the reorganisation tests use.
 */
export const BLOCKCHAIN_METHODS: Record<string, RpcMethod> = {
  getblockchaininfo: {
    params: [],
    run: (simnet) => {
      const tip = simnet.block(simnet.tip().hash)!;
      return {
        chain: 'regtest',
        blocks: tip.height,
        headers: tip.height,
        bestblockhash: tip.hash,
        difficulty: Number(difficulty(tip.block.header.bits).toPrecision(16)),
        time: tip.block.header.time,
        mediantime: simnet.medianTimePast(tip.hash),
        verificationprogress: 1,
        initialblockdownload: false,
        chainwork: chainWorkHex(tip.chainWork),
        size_on_disk: 0,
        pruned: false,
        warnings: [],
      };
    },
  },
  getbestblockhash: {
    params: [],
    run: (simnet) => simnet.tip().hash,
  },
  getblockcount: {
    params: [],
    run: (simnet) => simnet.height,
  },
  getblockhash: {
    params: ['height'],
    run: (simnet, params) => {
      const height = integer(required(params, 0, 'height'));
      const found = simnet.blockHashAt(height);
      if (!found) throw new RpcError(RPC_ERRORS.INVALID_PARAMETER, 'Block height out of range');
      return found;
    },
  },
  getblockheader: {
    params: ['blockhash', 'verbose'],
    run: (simnet, params) => {
      const entry = requireBlock(simnet, required(params, 0, 'blockhash'), 'hash');
      if (!bool(params[1], true)) return toHex(serializeRawBlockHeader(entry.block.header));
      return headerJson(simnet, entry);
    },
  },
  getblock: {
    params: ['blockhash', 'verbosity'],
    run: (simnet, params) => {
      const entry = requireBlock(simnet, required(params, 0, 'blockhash'));
      const level = verbosity(params[1], 1);
      if (level <= 0) return toHex(entry.block.raw);
      const header = headerJson(simnet, entry);
      const block = entry.block;
      const txs: Json[] =
        level === 1
          ? block.txs.map((tx) => tx.txid)
          : block.txs.map((tx, i) =>
              txJson(simnet, tx, i > 0 ? entry.fees?.[i] : undefined, level >= 3),
            );
      return {
        hash: header.hash,
        confirmations: header.confirmations,
        height: header.height,
        version: header.version,
        versionHex: header.versionHex,
        merkleroot: header.merkleroot,
        time: header.time,
        mediantime: header.mediantime,
        nonce: header.nonce,
        bits: header.bits,
        difficulty: header.difficulty,
        chainwork: header.chainwork,
        nTx: header.nTx,
        previousblockhash: header.previousblockhash,
        nextblockhash: header.nextblockhash,
        strippedsize: block.strippedSize,
        size: block.size,
        weight: block.weight,
        tx: txs,
      };
    },
  },
  getrawtransaction: {
    params: ['txid', 'verbose', 'blockhash'],
    run: (simnet, params) => {
      const txid = hash(required(params, 0, 'txid'), 'parameter 1');
      const level = verbosity(params[1], 0);
      let tx: Tx | undefined;
      let blockHash: string | undefined;
      let inActiveChain: boolean | undefined;
      if (params[2] !== undefined && params[2] !== null) {
        const entry = simnet.block(hash(params[2], 'parameter 3'));
        if (!entry) throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Block hash not found');
        tx = entry.block.txs.find((candidate) => candidate.txid === txid);
        if (!tx) {
          throw new RpcError(
            RPC_ERRORS.INVALID_ADDRESS_OR_KEY,
            'No such transaction found in the provided block. Use gettransaction for wallet transactions.',
          );
        }
        blockHash = entry.hash;
        inActiveChain = simnet.isActive(entry.hash);
      } else {
        const found = simnet.transaction(txid);
        if (!found) {
          throw new RpcError(
            RPC_ERRORS.INVALID_ADDRESS_OR_KEY,
            'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
          );
        }
        tx = found.tx;
        blockHash = found.blockHash;
      }
      if (level <= 0) return toHex(tx.raw);
      const body = txJson(simnet, tx);
      const result: JsonObject = { in_active_chain: inActiveChain, ...body };
      if (blockHash) {
        const entry = simnet.block(blockHash)!;
        result.blockhash = blockHash;
        const confirmations = simnet.confirmations(blockHash);
        result.confirmations = confirmations > 0 ? confirmations : 0;
        result.time = entry.block.header.time;
        result.blocktime = entry.block.header.time;
      }
      return result;
    },
  },
  invalidateblock: {
    params: ['blockhash'],
    run: async (simnet, params) => {
      const entry = requireBlock(simnet, required(params, 0, 'blockhash'));
      await simnet.invalidateBlock(entry.hash);
      return null;
    },
  },
  reconsiderblock: {
    params: ['blockhash'],
    run: async (simnet, params) => {
      const entry = requireBlock(simnet, required(params, 0, 'blockhash'));
      await simnet.reconsiderBlock(entry.hash);
      return null;
    },
  },
};
