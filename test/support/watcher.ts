import { sql } from 'drizzle-orm';
import type { ChainConsumer, ChainSource, ChainBlock } from '../../src/chain';
import { rowsOf, type Database, type Orm } from '../../src/db';

/** Test helpers: a consumer that records what it is told, the way a real one writes. */

/**
 * A consumer as a real one would be written: every write goes through the watcher's
 * transaction; a block row per connected block (primary key: connecting a block that is connected
 * fails the transaction, and disconnecting one that is not throws); one row per output; an
 * append-only event log. A block may come back after its disconnect (the branch that replaced it
 * was itself reorganized away or invalidated): the log then holds its second connect.
 */
export async function createConsumerTables(db: Database): Promise<void> {
  await db.orm.execute(
    sql`create table test_blocks (hash text primary key, height integer not null)`,
  );
  await db.orm.execute(
    sql`create table test_outputs (block_hash text not null, txid text not null, vout integer not null, value_sats bigint not null, coinbase boolean not null, primary key (block_hash, txid, vout))`,
  );
  await db.orm.execute(
    sql`create table test_events (seq serial primary key, kind text not null, hash text not null, height integer not null)`,
  );
}

export function recordingConsumer(options: { failOn?: string } = {}): ChainConsumer {
  return {
    name: 'test-recorder',
    async blockConnected(block: ChainBlock, tx: Orm) {
      await tx.execute(
        sql`insert into test_events (kind, hash, height) values ('connect', ${block.hash}, ${block.height})`,
      );
      await tx.execute(
        sql`insert into test_blocks (hash, height) values (${block.hash}, ${block.height})`,
      );
      for (const t of block.transactions) {
        for (const output of t.outputs) {
          await tx.execute(
            sql`insert into test_outputs values (${block.hash}, ${t.txid}, ${output.vout}, ${output.valueSats.toString()}, ${t.coinbase})`,
          );
        }
      }
      // A crash in the middle of the transaction, after some writes: everything must roll back.
      if (block.hash === options.failOn)
        throw new Error(`simulated crash while connecting ${block.hash}`);
    },
    async blockDisconnected(block: ChainBlock, tx: Orm) {
      await tx.execute(
        sql`insert into test_events (kind, hash, height) values ('disconnect', ${block.hash}, ${block.height})`,
      );
      await tx.execute(sql`delete from test_outputs where block_hash = ${block.hash}`);
      const removed = rowsOf(
        await tx.execute(sql`delete from test_blocks where hash = ${block.hash} returning hash`),
      );
      if (removed.length !== 1)
        throw new Error(`disconnected ${block.hash}, which is not connected`);
    },
  };
}

export async function events(db: Database): Promise<string[]> {
  const rows = rowsOf(
    await db.orm.execute(sql`select kind, hash, height from test_events order by seq`),
  );
  return rows.map((row) => `${String(row.kind)} ${String(row.height)} ${String(row.hash)}`);
}

export const connect = (height: number, hash: string | undefined) => `connect ${height} ${hash}`;
export const disconnect = (height: number, hash: string | undefined) =>
  `disconnect ${height} ${hash}`;

export async function consumerState(
  db: Database,
): Promise<{ blocks: string[]; outputs: string[] }> {
  const blocks = rowsOf(await db.orm.execute(sql`select hash from test_blocks order by height`));
  const outputs = rowsOf(
    await db.orm.execute(
      sql`select block_hash, txid, vout, value_sats, coinbase from test_outputs`,
    ),
  );
  return {
    blocks: blocks.map((row) => String(row.hash)),
    outputs: outputs
      .map(
        (row) =>
          `${String(row.block_hash)} ${String(row.txid)} ${String(row.vout)} ${String(row.value_sats)} ${String(row.coinbase)}`,
      )
      .sort(),
  };
}

/** The source with some methods replaced (a source that changes or fails mid-sync). */
export function withOverrides(inner: ChainSource, overrides: Partial<ChainSource>): ChainSource {
  return {
    network: inner.network,
    getTip: () => inner.getTip(),
    getBlockHash: (height) => inner.getBlockHash(height),
    getBlockHeader: (hash) => inner.getBlockHeader(hash),
    getBlock: (hash) => inner.getBlock(hash),
    getChainBlock: (hash) => inner.getChainBlock(hash),
    getRawTransaction: (txid) => inner.getRawTransaction(txid),
    getMempoolTxids: () => inner.getMempoolTxids(),
    testMempoolAccept: (raw) => inner.testMempoolAccept(raw),
    broadcast: (raw) => inner.broadcast(raw),
    estimateFeeRateSatPerKvB: (target) => inner.estimateFeeRateSatPerKvB(target),
    ...overrides,
  };
}
