/**
 * The chain events trade consumes: the chain module's one block shape (inputs carry the outputs
 * they spend) and the mempool transactions the watcher announces.
 */
export type { ChainBlock, ChainOutput, ChainTransaction, MempoolTransaction } from '../chain';
