export { BlockFileChainSource } from './source';
export type { AddBlocksResult } from './source';
