import { eq } from 'drizzle-orm';
import type { Orm } from '../db';
import { miningAttributions, miningSites, miningViolations, provenanceTags } from './schema';

/**
 * Reads for the modules that build on mining's results inside the chain watcher's block
 * transaction (clearing): what a block's attribution and provenance tracing wrote. The mining
 * consumer must have run for the block first (it is registered before them).
 */

/** An attributed coinbase output of a block, with its ban violation and its site's registration. */
export interface BlockAttribution {
  readonly attributionId: string;
  readonly txid: string;
  readonly vout: number;
  readonly valueSats: bigint;
  readonly minerId: string;
  readonly siteId: string;
  readonly regionCode: string;
  readonly blockTime: Date;
  /** The ban in force when the block was mined (a MINING_BAN_VIOLATION), or null. */
  readonly banId: string | null;
  /** When the site was registered with the scheme. */
  readonly siteRegisteredAt: Date;
}

export async function blockAttributions(tx: Orm, blockHash: string): Promise<BlockAttribution[]> {
  const rows = await tx
    .select({
      attribution: miningAttributions,
      banId: miningViolations.banId,
      siteRegisteredAt: miningSites.createdAt,
    })
    .from(miningAttributions)
    .innerJoin(miningSites, eq(miningSites.id, miningAttributions.siteId))
    .leftJoin(miningViolations, eq(miningViolations.attributionId, miningAttributions.id))
    .where(eq(miningAttributions.blockHash, blockHash))
    .orderBy(miningAttributions.txid, miningAttributions.vout);
  return rows.map(({ attribution: a, banId, siteRegisteredAt }) => ({
    attributionId: a.id,
    txid: a.txid,
    vout: a.vout,
    valueSats: a.valueSats,
    minerId: a.minerId,
    siteId: a.siteId,
    regionCode: a.regionCode,
    blockTime: a.blockTime,
    banId: banId ?? null,
    siteRegisteredAt,
  }));
}

/** One (output, origin) share the haircut rule gave an output created in a block. */
export interface BlockProvenanceTag {
  readonly txid: string;
  readonly vout: number;
  /** The attribution the coins were mined in. */
  readonly originId: string;
  readonly sats: bigint;
}

/** The provenance of every output created in a block (coinbases and spends of traced coins). */
export async function blockProvenance(tx: Orm, blockHash: string): Promise<BlockProvenanceTag[]> {
  return tx
    .select({
      txid: provenanceTags.txid,
      vout: provenanceTags.vout,
      originId: provenanceTags.originId,
      sats: provenanceTags.sats,
    })
    .from(provenanceTags)
    .where(eq(provenanceTags.blockHash, blockHash));
}
