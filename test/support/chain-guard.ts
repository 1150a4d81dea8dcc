import type { ChainSource } from '../../src/chain';
import type { Database } from '../../src/db';

export interface ChainCall {
  readonly method: string;
  /** True when the call was made while a transaction of the guarded database was open. */
  readonly insideTransaction: boolean;
}

export interface ChainGuard {
  /** The real source, every call recorded; a call while a guarded transaction is open throws. */
  readonly source: ChainSource;
  /** The real database; its transactions are the ones the guard watches (give it to the watcher). */
  readonly database: Database;
  readonly calls: readonly ChainCall[];
  /** The calls made inside a transaction: must stay empty. */
  insideTransactions(): ChainCall[];
}

/**
 * For tests: proves that no chain call happens while a block's database transaction is open.
 * Wraps a real ChainSource and a real Database (nothing is simulated): the watcher is given the
 * guarded database, so its block transactions are the guarded ones, and every consumer that could
 * reach the chain is given the guarded source. A call during an open transaction is recorded and
 * refused with an error, which aborts the block, so the test fails where the call was made.
 */
export function guardChainCalls(source: ChainSource, database: Database): ChainGuard {
  let open = 0;
  const calls: ChainCall[] = [];
  const guardedDatabase = new Proxy(database, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === 'transaction') {
        return <T>(fn: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<T>) =>
          target.transaction(async (tx) => {
            open++;
            try {
              return await fn(tx);
            } finally {
              open--;
            }
          });
      }
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  const guardedSource = new Proxy(source, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const call = { method: String(property), insideTransaction: open > 0 };
        calls.push(call);
        if (call.insideTransaction) {
          return Promise.reject(
            new Error(
              `chain call ${call.method}(${args.map((a) => (typeof a === 'string' ? a : typeof a)).join(', ')}) inside a block's database transaction`,
            ),
          );
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    source: guardedSource,
    database: guardedDatabase,
    calls,
    insideTransactions: () => calls.filter((call) => call.insideTransaction),
  };
}
