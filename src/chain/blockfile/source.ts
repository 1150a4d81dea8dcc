import { AppError, type NetworkName } from '../../kernel';
import { NETWORK_MAGIC } from '../../bitcoin';
import type { BlockHeaderInfo, ChainSource, ChainTip, MempoolAcceptResult } from '../source';
import { decodeChainBlock, type ChainBlock } from '../block';
import {
  meetsProofOfWork,
  parseBlock,
  parseTransaction,
  splitBlockFile,
  workFromBits,
  type BlockHeader,
  type TxOutput,
} from './block';

interface TreeNode {
  readonly header: BlockHeader;
  readonly height: number;
  /** Total work of the chain ending in this block (sum of 2^256 / (target + 1)). */
  readonly chainWork: bigint;
  readonly raw: Uint8Array;
  readonly txids: readonly string[];
}

export interface AddBlocksResult {
  readonly added: readonly string[];
  /** Blocks already known, skipped. */
  readonly duplicates: number;
  readonly tip: ChainTip;
}

/**
 * A read-only ChainSource over blocks in Bitcoin Core's blk*.dat framing (network magic +
 * length). Blocks are kept in a tree; the active chain is the one with the most cumulative
 * work, so feeding the blocks of a competing branch reorganizes it exactly as a node would
 * (Bitcoin Core validation.cpp: FindMostWorkChain). Proof of work and merkle roots are checked;
 * scripts and the UTXO set are not, so it serves replays of known chains, not validation.
 *
 * It has no mempool: broadcast and testMempoolAccept refuse, and there is no fee estimate.
 */
export class BlockFileChainSource implements ChainSource {
  readonly network: NetworkName;
  readonly #magic: number;
  readonly #nodes = new Map<string, TreeNode>();
  /** The outputs of every transaction of every block added (any branch: a txid commits to them). */
  readonly #outputs = new Map<string, readonly TxOutput[]>();
  #active: TreeNode[] = [];

  constructor(network: NetworkName) {
    this.network = network;
    this.#magic = NETWORK_MAGIC[network];
  }

  /**
   * Adds every block of a blk*.dat-framed byte string, in order. A block's parent must be known
   * already, except for the first block of an empty tree (the root, usually the genesis block).
   * A block that fails to parse or to meet its target is refused and nothing after it is added.
   */
  addBlocks(fileBytes: Uint8Array): AddBlocksResult {
    const added: string[] = [];
    let duplicates = 0;
    for (const raw of splitBlockFile(fileBytes, this.#magic)) {
      const block = parseBlock(raw);
      const { header } = block;
      if (this.#nodes.has(header.hash)) {
        duplicates++;
        continue;
      }
      if (!meetsProofOfWork(header)) {
        throw new AppError(
          'INVALID_BLOCK',
          `block ${header.hash} does not meet the target of its bits ${header.bits.toString(16)}`,
        );
      }
      const parent =
        header.previousHash === null ? undefined : this.#nodes.get(header.previousHash);
      if (!parent && this.#nodes.size > 0) {
        throw new AppError(
          'INVALID_BLOCK',
          `block ${header.hash} builds on ${header.previousHash ?? 'nothing'}, which has not been added; add blocks parent first`,
        );
      }
      const node: TreeNode = {
        header,
        height: parent ? parent.height + 1 : 0,
        chainWork: (parent?.chainWork ?? 0n) + workFromBits(header.bits),
        raw: raw.slice(),
        txids: block.transactions.map((tx) => tx.txid),
      };
      this.#nodes.set(header.hash, node);
      for (const tx of block.transactions) this.#outputs.set(tx.txid, tx.outputs);
      added.push(header.hash);
      // Strictly more work: among chains of equal work the first one seen stays active, as in Core.
      const best = this.#active.at(-1);
      if (!best || node.chainWork > best.chainWork) this.#activate(node);
    }
    return { added, duplicates, tip: this.#tip() };
  }

  #activate(tip: TreeNode): void {
    const chain: TreeNode[] = [];
    let node: TreeNode | undefined = tip;
    while (node) {
      chain.push(node);
      const parentHash: string | null = node.header.previousHash;
      node = parentHash === null ? undefined : this.#nodes.get(parentHash);
    }
    this.#active = chain.reverse();
  }

  #tip(): ChainTip {
    const tip = this.#active.at(-1);
    if (!tip) throw new AppError('BLOCK_NOT_FOUND', 'the block file source has no blocks yet');
    return { height: tip.height, hash: tip.header.hash };
  }

  #node(hash: string): TreeNode {
    const node = this.#nodes.get(hash.toLowerCase());
    if (!node) throw new AppError('BLOCK_NOT_FOUND', `no block with hash ${hash}`);
    return node;
  }

  #isActive(node: TreeNode): boolean {
    return this.#active[node.height] === node;
  }

  getTip(): Promise<ChainTip> {
    return Promise.resolve().then(() => this.#tip());
  }

  getBlockHash(height: number): Promise<string> {
    const node = Number.isInteger(height) && height >= 0 ? this.#active[height] : undefined;
    if (!node) {
      return Promise.reject(
        new AppError(
          'BLOCK_NOT_FOUND',
          `no block at height ${height}: the active chain has heights 0 to ${this.#active.length - 1}`,
        ),
      );
    }
    return Promise.resolve(node.header.hash);
  }

  getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
    return Promise.resolve().then(() => {
      const node = this.#node(hash);
      const tipHeight = this.#active.length - 1;
      return {
        hash: node.header.hash,
        height: node.height,
        previousHash: node.header.previousHash,
        time: node.header.time,
        // Bitcoin Core reports -1 for a block that is not on the active chain.
        confirmations: this.#isActive(node) ? tipHeight - node.height + 1 : -1,
      };
    });
  }

  getBlock(hash: string): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.#node(hash).raw.slice());
  }

  /**
   * The block with its inputs' previous outputs, taken from the blocks added before it. A block
   * spending an output the file does not hold (a file starting after the genesis block) cannot
   * be completed: CHAIN_UNAVAILABLE naming the outpoint, never a block with a guessed input.
   */
  getChainBlock(hash: string): Promise<ChainBlock> {
    return Promise.resolve().then(() => {
      const node = this.#node(hash);
      return decodeChainBlock(
        node.raw,
        { hash: node.header.hash, height: node.height },
        this.network,
        (txid, vout) => {
          const output = this.#outputs.get(txid)?.[vout];
          return output && { valueSats: output.valueSats, script: output.script };
        },
        'the block file source',
      );
    });
  }

  getRawTransaction(txid: string): Promise<Uint8Array> {
    return Promise.resolve().then(() => {
      const wanted = txid.toLowerCase();
      for (let i = this.#active.length - 1; i >= 0; i--) {
        const node = this.#active[i] as TreeNode;
        const index = node.txids.indexOf(wanted);
        if (index >= 0) {
          const tx = parseBlock(node.raw).transactions[index];
          if (tx) return tx.raw.slice();
        }
      }
      throw new AppError('TX_NOT_FOUND', `no transaction ${txid} on the active chain`);
    });
  }

  getMempoolTxids(): Promise<readonly string[]> {
    return Promise.resolve([]);
  }

  testMempoolAccept(rawTx: Uint8Array): Promise<MempoolAcceptResult> {
    return Promise.resolve().then(() => ({
      txid: parseTransaction(rawTx).txid,
      allowed: false,
      rejectReason: 'read-only block file source: it has no mempool to accept transactions into',
    }));
  }

  broadcast(_rawTx: Uint8Array): Promise<string> {
    return Promise.reject(
      new AppError(
        'TX_REJECTED',
        'the block file source is read-only and cannot broadcast transactions',
      ),
    );
  }

  estimateFeeRateSatPerKvB(_targetBlocks: number): Promise<bigint | null> {
    return Promise.resolve(null);
  }
}
