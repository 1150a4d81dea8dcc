import { asc, eq, inArray } from 'drizzle-orm';
import type { Database, MigrationSet } from '../../db';
import { packagePath } from '../../kernel';
import { simnetBlocks, simnetMempool } from './tables';

/**
 * Simnet's own migration set (drizzle-simnet/, from ./tables.ts by drizzle-simnet.config.ts),
 * recorded in `drizzle.__simnet_migrations`: applied by the store when simnet opens, so only a
 * database simnet runs on has its tables. Its first migration adopts the tables a database got
 * from the platform's 0004_simnet before they moved here.
 */
export const SIMNET_MIGRATIONS: MigrationSet = {
  folder: packagePath('drizzle-simnet'),
  table: '__simnet_migrations',
};

export type BlockStatus = 'valid' | 'unchecked' | 'invalid';

export interface StoredBlock {
  readonly hash: string;
  readonly height: number;
  readonly prevHash: string | null;
  readonly raw: Uint8Array;
  readonly active: boolean;
  readonly status: BlockStatus;
}

export interface StoredMempoolTx {
  readonly txid: string;
  readonly raw: Uint8Array;
  readonly time: number;
}

/** What one simnet operation changed, written in one database transaction. */
export interface SimnetChanges {
  readonly newBlocks: readonly StoredBlock[];
  /** Blocks whose active flag or status changed (new blocks excluded). */
  readonly updatedBlocks: readonly { hash: string; active: boolean; status: BlockStatus }[];
  /** Stored mempool rows to delete: removed, or re-added (deleted first so they take a new position). */
  readonly mempoolTouched: readonly string[];
  /** Mempool transactions to insert, in arrival order. */
  readonly mempoolAdded: readonly StoredMempoolTx[];
}

function isStatus(value: string): value is BlockStatus {
  return value === 'valid' || value === 'unchecked' || value === 'invalid';
}

export class SimnetStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Applies simnet's migration set (idempotent): what opening simnet's storage does first. */
  async open(): Promise<void> {
    await this.#db.migrate(SIMNET_MIGRATIONS);
  }

  async loadBlocks(): Promise<StoredBlock[]> {
    const rows = await this.#db.orm.select().from(simnetBlocks).orderBy(asc(simnetBlocks.seq));
    return rows.map((row) => {
      if (!isStatus(row.status))
        throw new Error(`simnet block ${row.hash} has unknown status "${row.status}"`);
      return {
        hash: row.hash,
        height: row.height,
        prevHash: row.prevHash,
        raw: row.raw,
        active: row.active,
        status: row.status,
      };
    });
  }

  async loadMempool(): Promise<StoredMempoolTx[]> {
    const rows = await this.#db.orm.select().from(simnetMempool).orderBy(asc(simnetMempool.seq));
    return rows.map((row) => ({ txid: row.txid, raw: row.raw, time: row.time }));
  }

  async write(changes: SimnetChanges): Promise<void> {
    if (
      changes.newBlocks.length === 0 &&
      changes.updatedBlocks.length === 0 &&
      changes.mempoolTouched.length === 0 &&
      changes.mempoolAdded.length === 0
    ) {
      return;
    }
    await this.#db.transaction(async (tx) => {
      for (let i = 0; i < changes.newBlocks.length; i += 200) {
        await tx
          .insert(simnetBlocks)
          .values(changes.newBlocks.slice(i, i + 200).map((block) => ({ ...block })));
      }
      for (const block of changes.updatedBlocks) {
        await tx
          .update(simnetBlocks)
          .set({ active: block.active, status: block.status })
          .where(eq(simnetBlocks.hash, block.hash));
      }
      for (let i = 0; i < changes.mempoolTouched.length; i += 1000) {
        await tx
          .delete(simnetMempool)
          .where(inArray(simnetMempool.txid, changes.mempoolTouched.slice(i, i + 1000)));
      }
      for (let i = 0; i < changes.mempoolAdded.length; i += 500) {
        await tx
          .insert(simnetMempool)
          .values(changes.mempoolAdded.slice(i, i + 500).map((entry) => ({ ...entry })));
      }
    });
  }
}
