export { ChainWatcher } from './watcher';
export { watcherCursor } from './cursor';
export type {
  ChainConsumer,
  ChainWatcherOptions,
  SyncResult,
  WatcherEvents,
  WatcherLogger,
  WatcherProgress,
} from './types';
export { chainWatcherBlocks, chainWatcherConsumers } from './schema';
