import { AsyncLocalStorage } from 'node:async_hooks';
import type { Orm } from './database';

/**
 * The unit of work: the transaction a piece of work runs in travels with it (AsyncLocalStorage),
 * opened by `db.transaction`. Inside it:
 * - `db.current()` is the open transaction, so a service called without a `tx` reads and writes
 *   in its caller's unit (on the embedded database's one connection a query sent outside the
 *   open transaction would wait for it forever);
 * - `db.unit(fn)` joins the open unit (as a savepoint, so a failure inside rolls back only its
 *   own writes) or, outside one, opens a transaction: for a service that must be atomic on its
 *   own and also callable from inside another's change;
 * - the order in which rows every writer locks are taken is checked in one place (`noteLock`):
 *   a contract row, then a wallet row, then the audit head, never the other way (two writers
 *   taking them in opposite orders deadlock each other).
 *
 * `db.transaction` itself always opens a transaction of its own, as before: work started inside
 * a unit without being awaited by it (a timer, an event listener, a background flush) inherits
 * the context, and must not land in a transaction that is not its own. Work that is started from
 * inside a unit but serves others (the gate's group-commit drain) runs `db.detached(fn)`.
 */

/** Rows locked for the rest of a transaction, in the one order every writer takes them. */
export const LOCK_ORDER = ['contract', 'wallet', 'audit-head'] as const;
export type LockName = (typeof LOCK_ORDER)[number];

interface Unit {
  /** The database the unit belongs to (tests open several). */
  readonly owner: object;
  readonly tx: Orm;
  /** False once the transaction has ended: work that outlives it no longer joins it. */
  open: boolean;
  /** The highest rank locked so far in the transaction and the rows held (shared with savepoints). */
  readonly locks: { rank: number; held: Set<string> };
}

const units = new AsyncLocalStorage<Unit>();

function ambient(owner: object): Unit | undefined {
  const unit = units.getStore();
  return unit && unit.owner === owner && unit.open ? unit : undefined;
}

/**
 * Runs `fn` as a unit of work of the database `owner` whose transactions `begin` opens: in a new
 * transaction (`join` false, `db.transaction`), or in the open unit as a savepoint when there is
 * one (`join` true, `db.unit`).
 */
export async function runUnit<T>(
  owner: object,
  begin: <R>(work: (tx: Orm) => Promise<R>) => Promise<R>,
  fn: (tx: Orm) => Promise<T>,
  join: boolean,
): Promise<T> {
  const outer = join ? ambient(owner) : undefined;
  const open = outer ? (work: (tx: Orm) => Promise<T>) => savepoint(outer.tx, work) : begin;
  return open(async (tx) => {
    const unit: Unit = {
      owner,
      tx,
      open: true,
      locks: outer?.locks ?? { rank: -1, held: new Set() },
    };
    try {
      return await units.run(unit, () => fn(tx));
    } finally {
      unit.open = false;
    }
  });
}

function savepoint<T>(tx: Orm, work: (sp: Orm) => Promise<T>): Promise<T> {
  return tx.transaction((sp) => work(sp as unknown as Orm));
}

/** The open unit's transaction for this database, else `orm` (autocommit). */
export function currentOf(owner: object, orm: Orm): Orm {
  return ambient(owner)?.tx ?? orm;
}

/**
 * The open unit's transaction for this database; outside one, an error naming `what`: a lock
 * taken on the pool would end with its own statement, and writes would not commit with the
 * caller's, so such work is refused rather than run there.
 */
export function unitOf(owner: object, what: string): Orm {
  const unit = ambient(owner);
  if (!unit) {
    throw new Error(
      `${what} must be called inside a transaction (db.transaction or db.unit): ` +
        'its locks and writes hold only until the transaction that took them ends',
    );
  }
  return unit.tx;
}

export function inUnit(owner: object): boolean {
  return ambient(owner) !== undefined;
}

/** Runs `fn` outside any unit of work: what it opens is a transaction of its own. */
export function detached<T>(fn: () => T): T {
  return units.exit(fn);
}

/**
 * Records that the open unit (if `tx` is its transaction) now holds `lock` (the row `key`) until
 * it ends, and refuses to take it
 * after a lock that comes later in `LOCK_ORDER`: that is how two writers deadlock. Outside a unit
 * (a statement on its own) there is nothing to order.
 */
export function noteLock(tx: Orm, lock: LockName, key = ''): void {
  const unit = units.getStore();
  // Only the unit's own transaction: work that merely inherited the context locks elsewhere.
  if (!unit?.open || unit.tx !== tx) return;
  const row = `${lock}:${key}`;
  if (unit.locks.held.has(row)) return; // held already: locking it again waits for no one
  unit.locks.held.add(row);
  const rank = LOCK_ORDER.indexOf(lock);
  if (rank < unit.locks.rank) {
    throw new Error(
      `lock order: ${lock} taken after ${LOCK_ORDER[unit.locks.rank]}; every writer takes ` +
        `${LOCK_ORDER.join(' → ')}, in that order`,
    );
  }
  unit.locks.rank = Math.max(unit.locks.rank, rank);
}

/** A row lock to take (its `LOCK_ORDER` name and key), for `takeInLockOrder`. */
export interface RowLock {
  readonly lock: LockName;
  readonly key: string;
  take(): Promise<void>;
}

/**
 * Takes the locks of several pieces of work sharing one transaction (a batch of creations): each
 * row once, in `LOCK_ORDER` and by key within a name, the one order in which every such batch
 * takes them, so that two never wait for each other in a circle.
 */
export async function takeInLockOrder(locks: readonly RowLock[]): Promise<void> {
  const rank = (l: RowLock) => LOCK_ORDER.indexOf(l.lock);
  const unique = new Map(locks.map((l) => [`${l.lock}:${l.key}`, l]));
  const sorted = [...unique.values()].sort(
    (a, b) => rank(a) - rank(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  for (const lock of sorted) await lock.take();
}
