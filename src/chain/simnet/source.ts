import { AppError, type NetworkName } from '../../kernel';
import type { BlockHeaderInfo, ChainSource, ChainTip, MempoolAcceptResult } from '../source';
import { fromReversedHex } from '../../bitcoin';
import { decodeChainBlock, type ChainBlock } from '../block';
import type { Simnet } from './simnet';

/** The ChainSource port over an in-process simnet (same answers as its JSON-RPC server). */
export class SimnetChainSource implements ChainSource {
  readonly network: NetworkName;
  readonly simnet: Simnet;

  constructor(simnet: Simnet) {
    this.simnet = simnet;
    this.network = simnet.network;
  }

  getTip(): Promise<ChainTip> {
    return Promise.resolve(this.simnet.tip());
  }

  getBlockHash(height: number): Promise<string> {
    const hash = this.simnet.blockHashAt(height);
    if (!hash) {
      return Promise.reject(
        new AppError(
          'BLOCK_NOT_FOUND',
          `no block at height ${height} (tip is ${this.simnet.height})`,
        ),
      );
    }
    return Promise.resolve(hash);
  }

  getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
    return Promise.resolve().then(() => {
      const entry = this.#block(hash);
      return {
        hash: entry.hash,
        height: entry.height,
        previousHash: entry.prevHash,
        time: entry.block.header.time,
        confirmations: this.simnet.confirmations(entry.hash),
      };
    });
  }

  getBlock(hash: string): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.#block(hash).block.raw.slice());
  }

  /** The block with its inputs' previous outputs, from simnet's stored transactions. */
  getChainBlock(hash: string): Promise<ChainBlock> {
    return Promise.resolve().then(() => {
      const entry = this.#block(hash);
      return decodeChainBlock(
        entry.block.raw,
        { hash: entry.hash, height: entry.height },
        this.network,
        (txid, vout) => {
          const found = this.simnet.previousOutput(txid, vout);
          return found && { valueSats: found.value, script: found.script };
        },
        'simnet',
      );
    });
  }

  getRawTransaction(txid: string): Promise<Uint8Array> {
    return Promise.resolve().then(() => {
      fromReversedHex(txid, 'txid');
      const found = this.simnet.transaction(txid);
      if (!found)
        throw new AppError(
          'TX_NOT_FOUND',
          `no transaction ${txid} in the simnet mempool or active chain`,
        );
      return found.tx.raw.slice();
    });
  }

  getMempoolTxids(): Promise<readonly string[]> {
    return Promise.resolve(this.simnet.mempoolTxids());
  }

  testMempoolAccept(rawTx: Uint8Array): Promise<MempoolAcceptResult> {
    return Promise.resolve().then(() => {
      const result = this.simnet.testMempoolAccept(rawTx);
      return result.allowed
        ? { txid: result.txid, allowed: true }
        : { txid: result.txid, allowed: false, rejectReason: result.rejectReason ?? 'rejected' };
    });
  }

  async broadcast(rawTx: Uint8Array): Promise<string> {
    // Bitcoin Core's sendrawtransaction returns the txid when the same transaction is already in the mempool.
    const result = await this.simnet.submitTransaction(rawTx);
    if (result.allowed || result.rejectReason === 'txn-already-in-mempool') return result.txid;
    const reason = result.rejectDetails
      ? `${result.rejectReason}, ${result.rejectDetails}`
      : (result.rejectReason ?? 'rejected');
    throw new AppError('TX_REJECTED', `simnet refused transaction ${result.txid}: ${reason}`, {
      details: {
        txid: result.txid,
        reason: result.rejectReason,
        rejectDetails: result.rejectDetails,
        // How Core's RPC would code it (-25, -26, -27): what `broadcastRejection` reads first.
        rejectKind: result.rejectKind,
      },
    });
  }

  estimateFeeRateSatPerKvB(targetBlocks: number): Promise<bigint | null> {
    if (!Number.isInteger(targetBlocks) || targetBlocks < 1 || targetBlocks > 1008) {
      return Promise.reject(
        new AppError(
          'VALIDATION_FAILED',
          `targetBlocks must be an integer from 1 to 1008, got ${targetBlocks}`,
        ),
      );
    }
    return Promise.resolve(this.simnet.estimateFeeRateSatPerKvB(targetBlocks));
  }

  #block(hash: string) {
    fromReversedHex(hash, 'hash');
    const entry = this.simnet.block(hash);
    if (!entry) throw new AppError('BLOCK_NOT_FOUND', `no simnet block with hash ${hash}`);
    return entry;
  }
}
