export { ChainWatcher, watcherCursor } from './watcher';
export type {
  ChainConsumer,
  ChainWatcherOptions,
  SyncResult,
  WatcherEvents,
  WatcherLogger,
  WatcherProgress,
} from './watcher';
export { chainWatcherBlocks, chainWatcherConsumers } from './schema';
