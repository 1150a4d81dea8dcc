/*
 * Provenance of mined coins: tracing (the tags of a coinbase output, then each spend passing its
 * inputs' tags on by the haircut rule) and the query of an output's provenance and path.
 * `traceTransaction` runs past 60 lines: reading a transaction's tagged inputs, applying the
 * haircut and writing its inputs and tagged outputs is one step, kept whole.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { ChainBlock, ChainTransaction } from '../chain';
import { type Orm } from '../db';
import { AppError, invalid, type Caller } from '../kernel';
import { haircut, type ProvenanceShare } from './haircut';
import { miningAttributions, provenanceInputs, provenanceOutputs, provenanceTags } from './schema';
import { type ProvenanceNode, type ProvenanceReport } from './types';
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
    const provenance = tags.map(({ tag, origin }) => ({
      origin: {
        attributionId: origin.id,
        minerId: origin.minerId,
        siteId: origin.siteId,
        regionCode: origin.regionCode,
        blockHash: origin.blockHash,
        height: origin.height,
        txid: origin.txid,
        vout: origin.vout,
      },
      sats: tag.sats,
    }));
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
