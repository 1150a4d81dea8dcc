export { ChainWatcher, watcherCursor } from './watcher';
export { decodeWatchedBlock } from './block';
export type {
  ChainConsumer,
  ChainWatcherOptions,
  SyncResult,
  WatcherEvents,
  WatcherLogger,
  WatcherProgress,
} from './watcher';
export type { WatchedBlock, WatchedOutput, WatchedTransaction } from './block';
export { chainWatcherBlocks, chainWatcherConsumers } from './schema';
