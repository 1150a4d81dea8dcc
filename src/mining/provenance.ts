/*
 * Provenance of mined coins: tracing (the tags of a coinbase output, then each spend passing its
 * inputs' tags on by the haircut rule) and the query of an output's provenance and path.
 * `traceTransaction` runs past 60 lines: reading a transaction's tagged inputs, applying the
 * haircut and writing its inputs and tagged outputs is one step, kept whole; so does
 * `transaction`, whose reads (outputs, inputs, the outputs spent, their tags, the origins) build
 * one view.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { ChainBlock, ChainTransaction } from '../chain';
import { type Orm } from '../db';
import { AppError, invalid, type Caller } from '../kernel';
import { haircut, type ProvenanceShare } from './haircut';
import {
  miningAttributions,
  miningBlocks,
  provenanceInputs,
  provenanceOutputs,
  provenanceTags,
} from './schema';
import {
  type ProvenanceNode,
  type ProvenanceOrigin,
  type ProvenanceReport,
  type TransactionView,
} from './types';
import { namesOf } from './names';
import { forbidden, type MiningContext } from './shared';

const MAX_PATH_DEPTH = 32;
const MAX_PATH_NODES = 400;

/** Provenance starts at an attributed coinbase output: wholly of its origin. */
export async function tagCoinbaseOutput(
  tx: Orm,
  block: ChainBlock,
  txid: string,
  output: { vout: number; valueSats: bigint },
  originId: string,
): Promise<void> {
  await tx
    .insert(provenanceOutputs)
    .values({
      txid,
      vout: output.vout,
      blockHash: block.hash,
      height: block.height,
      valueSats: output.valueSats,
      coinbase: 1,
    })
    .onConflictDoNothing();
  await tx.insert(provenanceTags).values({
    txid,
    vout: output.vout,
    originId,
    sats: output.valueSats,
    blockHash: block.hash,
  });
}

/**
 * Passes the tags of the tagged outputs a transaction spends on to its outputs by the haircut
 * rule, inside the block's transaction. Every input's value is the block's (`prevout`).
 */
export async function traceTransaction(
  tx: Orm,
  block: ChainBlock,
  transaction: ChainTransaction,
): Promise<void> {
  if (transaction.coinbase || transaction.inputs.length === 0) return;
  const keys = transaction.inputs.map((input) => sql`(${input.txid}, ${input.vout})`);
  const tagRows = await tx
    .select()
    .from(provenanceTags)
    .where(sql`(${provenanceTags.txid}, ${provenanceTags.vout}) in (${sql.join(keys, sql`, `)})`);
  if (tagRows.length === 0) return;
  const inputs: { value: bigint; tags: ProvenanceShare[] }[] = [];
  for (const input of transaction.inputs) {
    const value = input.prevout.valueSats;
    const tags = tagRows
      .filter((row) => row.txid === input.txid && row.vout === input.vout)
      .map((row) => ({ origin: row.originId, sats: row.sats }));
    inputs.push({ value, tags });
  }
  const shares = haircut(
    inputs,
    transaction.outputs.map((o) => o.valueSats),
  );
  for (const [index, input] of transaction.inputs.entries()) {
    await tx.insert(provenanceInputs).values({
      spendingTxid: transaction.txid,
      inputIndex: index,
      blockHash: block.hash,
      prevTxid: input.txid,
      prevVout: input.vout,
      valueSats: inputs[index]?.value ?? 0n,
    });
    if ((inputs[index]?.tags.length ?? 0) > 0) {
      await tx
        .update(provenanceOutputs)
        .set({ spentByTxid: transaction.txid, spentInBlock: block.hash })
        .where(and(eq(provenanceOutputs.txid, input.txid), eq(provenanceOutputs.vout, input.vout)));
    }
  }
  for (const [index, output] of transaction.outputs.entries()) {
    const outputShares = shares[index] ?? [];
    if (outputShares.length === 0) continue;
    await tx.insert(provenanceOutputs).values({
      txid: transaction.txid,
      vout: output.vout,
      blockHash: block.hash,
      height: block.height,
      valueSats: output.valueSats,
      coinbase: 0,
    });
    await tx.insert(provenanceTags).values(
      outputShares.map((share) => ({
        txid: transaction.txid,
        vout: output.vout,
        originId: share.origin,
        sats: share.sats,
        blockHash: block.hash,
      })),
    );
  }
}

/** The provenance of an output and its path back to the coinbases it came from. */
export class Provenance {
  readonly #ctx: MiningContext;

  constructor(ctx: MiningContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ provenance queries

  /** The provenance of an output and its path back to the coinbases it came from. */
  async provenance(caller: Caller, txid: string, vout: number): Promise<ProvenanceReport> {
    if (caller.role === 'company' || caller.role === 'miner') {
      throw forbidden('provenance is for the supervisor, auditors and platforms');
    }
    if (!/^[0-9a-f]{64}$/.test(txid))
      throw invalid('txid', `must be 64 lower-case hex characters, got "${txid}"`);
    if (!Number.isInteger(vout) || vout < 0)
      throw invalid('vout', `must be a non-negative integer, got ${vout}`);
    const orm = this.#ctx.db.orm;
    const [output] = await orm
      .select()
      .from(provenanceOutputs)
      .where(and(eq(provenanceOutputs.txid, txid), eq(provenanceOutputs.vout, vout)));
    if (!output)
      throw new AppError(
        'NOT_FOUND',
        `output ${txid}:${vout} carries no provenance (no traced mined coins)`,
      );
    const tags = await orm
      .select({ tag: provenanceTags, origin: miningAttributions })
      .from(provenanceTags)
      .innerJoin(miningAttributions, eq(provenanceTags.originId, miningAttributions.id))
      .where(and(eq(provenanceTags.txid, txid), eq(provenanceTags.vout, vout)))
      .orderBy(asc(miningAttributions.height), asc(provenanceTags.originId));
    const origins = await this.#origins(
      caller,
      tags.map((t) => t.origin),
    );
    const provenance = tags.map(({ tag }, index) => ({ origin: origins[index]!, sats: tag.sats }));
    const budget = { nodes: 0 };
    const path = await this.#pathNode(orm, output, 0, budget);
    return {
      txid,
      vout,
      valueSats: output.valueSats,
      blockHash: output.blockHash,
      height: output.height,
      taggedSats: provenance.reduce((sum, p) => sum + p.sats, 0n),
      provenance,
      path,
    };
  }

  /** The attributions named, as origins with the names behind their ids. */
  async #origins(
    caller: Caller,
    rows: readonly (typeof miningAttributions.$inferSelect)[],
  ): Promise<ProvenanceOrigin[]> {
    const names = await namesOf(this.#ctx, caller, rows);
    return rows.map((origin) => ({
      attributionId: origin.id,
      minerId: origin.minerId,
      siteId: origin.siteId,
      regionCode: origin.regionCode,
      blockHash: origin.blockHash,
      height: origin.height,
      txid: origin.txid,
      vout: origin.vout,
      minerName: names.miner(origin.minerId),
      siteName: names.site(origin.siteId),
      regionName: names.region(origin.regionCode),
    }));
  }

  /**
   * A transaction as the tracer recorded it (the explorer's transaction page): a coinbase with its
   * attributed outputs, or a spend of traced coins with every input — the origins each carried
   * when it spent a traced output — and the outputs that received a share by the haircut rule.
   */
  async transaction(caller: Caller, txid: string): Promise<TransactionView> {
    if (caller.role === 'company' || caller.role === 'miner') {
      throw forbidden('provenance is for the supervisor, auditors and platforms');
    }
    if (!/^[0-9a-f]{64}$/.test(txid))
      throw invalid('txid', `must be 64 lower-case hex characters, got "${txid}"`);
    const orm = this.#ctx.db.orm;
    const outputs = await orm
      .select()
      .from(provenanceOutputs)
      .where(eq(provenanceOutputs.txid, txid))
      .orderBy(asc(provenanceOutputs.vout));
    const inputs = await orm
      .select()
      .from(provenanceInputs)
      .where(eq(provenanceInputs.spendingTxid, txid))
      .orderBy(asc(provenanceInputs.inputIndex));
    const blockHash = outputs[0]?.blockHash ?? inputs[0]?.blockHash;
    if (!blockHash)
      throw new AppError('NOT_FOUND', `transaction ${txid} moved no traced mined coins`);
    const [block] = await orm.select().from(miningBlocks).where(eq(miningBlocks.hash, blockHash));
    const prevKeys = inputs.map((i) => sql`(${i.prevTxid}, ${i.prevVout})`);
    const spent =
      prevKeys.length === 0
        ? []
        : await orm
            .select()
            .from(provenanceOutputs)
            .where(
              sql`(${provenanceOutputs.txid}, ${provenanceOutputs.vout}) in (${sql.join(prevKeys, sql`, `)})`,
            );
    const tagKeys = [
      ...outputs.map((o) => sql`(${o.txid}, ${o.vout})`),
      ...spent.map((o) => sql`(${o.txid}, ${o.vout})`),
    ];
    const tags =
      tagKeys.length === 0
        ? []
        : await orm
            .select()
            .from(provenanceTags)
            .where(
              sql`(${provenanceTags.txid}, ${provenanceTags.vout}) in (${sql.join(tagKeys, sql`, `)})`,
            )
            .orderBy(asc(provenanceTags.originId));
    const sharesOf = (t: string, v: number) =>
      tags
        .filter((tag) => tag.txid === t && tag.vout === v)
        .map((tag) => ({ originId: tag.originId, sats: tag.sats }));
    const originIds = [...new Set(tags.map((t) => t.originId))];
    const attributions =
      originIds.length === 0
        ? []
        : await orm
            .select()
            .from(miningAttributions)
            .where(inArray(miningAttributions.id, originIds))
            .orderBy(asc(miningAttributions.height), asc(miningAttributions.id));
    return {
      txid,
      blockHash,
      height: outputs[0]?.height ?? block?.height ?? 0,
      blockTime: block?.time ?? null,
      coinbase: outputs.some((o) => o.coinbase === 1),
      inputs: inputs.map((input) => {
        const prev = spent.find((o) => o.txid === input.prevTxid && o.vout === input.prevVout);
        return {
          index: input.inputIndex,
          prevTxid: input.prevTxid,
          prevVout: input.prevVout,
          valueSats: input.valueSats,
          traced: prev !== undefined,
          coinbase: prev?.coinbase === 1,
          provenance: prev ? sharesOf(prev.txid, prev.vout) : [],
        };
      }),
      outputs: outputs.map((o) => {
        const provenance = sharesOf(o.txid, o.vout);
        return {
          vout: o.vout,
          valueSats: o.valueSats,
          taggedSats: provenance.reduce((sum, p) => sum + p.sats, 0n),
          provenance,
          spentByTxid: o.spentByTxid,
        };
      }),
      origins: await this.#origins(caller, attributions),
    };
  }

  async #pathNode(
    orm: Orm,
    output: typeof provenanceOutputs.$inferSelect,
    depth: number,
    budget: { nodes: number },
  ): Promise<ProvenanceNode> {
    budget.nodes++;
    const tags = await orm
      .select()
      .from(provenanceTags)
      .where(and(eq(provenanceTags.txid, output.txid), eq(provenanceTags.vout, output.vout)))
      .orderBy(asc(provenanceTags.originId));
    const node: ProvenanceNode = {
      txid: output.txid,
      vout: output.vout,
      valueSats: output.valueSats,
      blockHash: output.blockHash,
      height: output.height,
      coinbase: output.coinbase === 1,
      provenance: tags.map((t) => ({ originId: t.originId, sats: t.sats })),
      from: [],
      truncated: false,
    };
    if (node.coinbase) return node;
    if (depth >= MAX_PATH_DEPTH || budget.nodes >= MAX_PATH_NODES) {
      node.truncated = true;
      return node;
    }
    const inputs = await orm
      .select()
      .from(provenanceInputs)
      .where(eq(provenanceInputs.spendingTxid, output.txid))
      .orderBy(asc(provenanceInputs.inputIndex));
    for (const input of inputs) {
      const [parent] = await orm
        .select()
        .from(provenanceOutputs)
        .where(
          and(
            eq(provenanceOutputs.txid, input.prevTxid),
            eq(provenanceOutputs.vout, input.prevVout),
          ),
        );
      if (!parent) continue;
      if (budget.nodes >= MAX_PATH_NODES) {
        node.truncated = true;
        break;
      }
      node.from.push(await this.#pathNode(orm, parent, depth + 1, budget));
    }
    return node;
  }
}
