export { openDatabase, rowsOf, MIGRATIONS_FOLDER } from './database';
export type { Database, DatabaseOptions, MigrationSet, Orm } from './database';
export { scopeTo } from './scope';
export { LOCK_ORDER, detached, noteLock, takeInLockOrder } from './unit-of-work';
export type { LockName, RowLock } from './unit-of-work';
export * from './errors';
export { acquireDataDirLock, lockHolderOf, lockPathFor } from './lock';
export type { DataDirLock, LockHolder } from './lock';
export {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  MAX_SEARCH_LENGTH,
  decodeCursor,
  encodeCursor,
  everyItem,
  keyset,
  keysetOn,
  pageOf,
  pageSize,
  startsWith,
} from './paging';
export type { KeyColumn, KeyKind, Page, PageRequest } from './paging';
