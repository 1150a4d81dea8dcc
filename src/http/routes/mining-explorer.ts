import { z } from 'zod';
import { LOT_STATUSES, QUARANTINE_REASONS, type LotView } from '../../clearing';
import type { Caller } from '../../kernel';
import type { OriginShares, ProvenanceNode, ProvenanceOrigin } from '../../mining';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors } from '../schemas';

/**
 * The mining explorer's reads: the provenance of an output (its origins and its path back to the
 * coinbases) and a transaction as the tracer recorded it, each origin with its clearing lot where
 * the caller sees lots (the supervisor and auditors; platforms see none).
 */

const sats = z.string().meta({ description: 'satoshis, as a decimal string' });
const outpointParam = z.object({
  outpoint: z
    .string()
    .regex(/^[0-9a-f]{64}:\d{1,6}$/, 'must be TXID:VOUT (64 lower-case hex, colon, output index)'),
});

const lotSummarySchema = z
  .object({
    id: z.string(),
    status: z.enum(LOT_STATUSES),
    clearance: z.enum(['cleared', 'quarantined', 'released']),
    quarantineReason: z.enum(QUARANTINE_REASONS).nullable(),
  })
  .meta({ id: 'ClearingLotSummary' });
const lotSummary = (lot: LotView | undefined) =>
  lot
    ? {
        id: lot.id,
        status: lot.status,
        clearance: lot.clearance,
        quarantineReason: lot.quarantineReason,
      }
    : null;

const originSchema = z
  .object({
    attributionId: z.string(),
    minerId: z.string(),
    siteId: z.string(),
    regionCode: z.string(),
    blockHash: z.string(),
    height: z.number(),
    txid: z.string(),
    vout: z.number(),
    minerName: z.string().nullable(),
    siteName: z.string().nullable(),
    regionName: z.string().nullable(),
    lot: lotSummarySchema
      .nullable()
      .meta({ description: "the coinbase output's clearing lot; null where none is visible" }),
  })
  .meta({ id: 'ProvenanceOrigin' });

const sharesSchema = z.array(z.object({ originId: z.string(), sats }));
const presentShares = (shares: OriginShares) =>
  shares.map((p) => ({ originId: p.originId, sats: p.sats.toString() }));

interface PathJson {
  txid: string;
  vout: number;
  valueSats: string;
  blockHash: string;
  height: number;
  coinbase: boolean;
  provenance: { originId: string; sats: string }[];
  from: PathJson[];
  truncated: boolean;
}
// Recursive, so it is a named component (`ProvenancePath`) that refers to itself in OpenAPI.
const pathSchema = z
  .object({
    txid: z.string(),
    vout: z.number(),
    valueSats: sats,
    blockHash: z.string(),
    height: z.number(),
    coinbase: z.boolean(),
    provenance: sharesSchema,
    get from(): z.ZodArray<typeof pathSchema> {
      return z.array(pathSchema);
    },
    truncated: z.boolean(),
  })
  .meta({ id: 'ProvenancePath' });
const presentPath = (node: ProvenanceNode): PathJson => ({
  ...node,
  valueSats: node.valueSats.toString(),
  provenance: presentShares(node.provenance),
  from: node.from.map(presentPath),
});

const transactionSchema = z
  .object({
    txid: z.string(),
    blockHash: z.string(),
    height: z.number(),
    blockTime: z.string().nullable(),
    coinbase: z.boolean(),
    inputs: z.array(
      z.object({
        index: z.number(),
        prevTxid: z.string(),
        prevVout: z.number(),
        valueSats: sats,
        traced: z.boolean().meta({ description: 'the spent output carried mined coins' }),
        coinbase: z.boolean(),
        provenance: sharesSchema,
      }),
    ),
    outputs: z.array(
      z.object({
        vout: z.number(),
        valueSats: sats,
        taggedSats: sats,
        provenance: sharesSchema,
        spentByTxid: z.string().nullable(),
      }),
    ),
    origins: z.array(originSchema),
  })
  .meta({ id: 'ProvenanceTransaction' });

export function registerExplorerRoutes(app: TypedApp, deps: AppDeps): void {
  const { mining, clearing } = deps.services;

  /** The origins with their lots (none for a caller who sees no lots). */
  const withLots = async (caller: Caller, origins: readonly ProvenanceOrigin[]) => {
    const lots = await clearing.lotsOfAttributions(
      caller,
      origins.map((o) => o.attributionId),
    );
    const byAttribution = new Map(lots.map((lot) => [lot.attributionId, lot]));
    return origins.map((o) => ({ ...o, lot: lotSummary(byAttribution.get(o.attributionId)) }));
  };

  app.get(
    '/v1/provenance/:outpoint',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary:
          'Provenance of an output (TXID:VOUT): origins and sats, with the path back to the coinbases',
        description:
          'Traces an output back to the coinbases it comes from: each origin with its share in sats and the path of transactions between.',
        params: outpointParam,
        response: {
          200: z
            .object({
              txid: z.string(),
              vout: z.number(),
              valueSats: sats,
              blockHash: z.string(),
              height: z.number(),
              taggedSats: sats,
              provenance: z.array(z.object({ origin: originSchema, sats })),
              path: pathSchema,
            })
            .meta({ id: 'Provenance' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const [txid = '', vout = '0'] = request.params.outpoint.split(':');
      const report = await mining.provenance(caller, txid, Number(vout));
      const origins = await withLots(
        caller,
        report.provenance.map((p) => p.origin),
      );
      return {
        ...report,
        valueSats: report.valueSats.toString(),
        taggedSats: report.taggedSats.toString(),
        provenance: report.provenance.map((p, index) => ({
          origin: origins[index]!,
          sats: p.sats.toString(),
        })),
        path: presentPath(report.path),
      };
    },
  );

  app.get(
    '/v1/mining/transactions/:txid',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary:
          'A transaction as the provenance tracer recorded it: inputs with the origins they carried, outputs with their shares',
        description:
          'A coinbase lists its attributed outputs; a spend of traced coins lists every input and the outputs that received a share of mined coins (outputs with none are not recorded). Supervisor, auditors and platforms.',
        params: z.object({
          txid: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters'),
        }),
        response: { 200: transactionSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const view = await mining.transaction(caller, request.params.txid);
      return {
        ...view,
        blockTime: view.blockTime?.toISOString() ?? null,
        inputs: view.inputs.map((i) => ({
          ...i,
          valueSats: i.valueSats.toString(),
          provenance: presentShares(i.provenance),
        })),
        outputs: view.outputs.map((o) => ({
          ...o,
          valueSats: o.valueSats.toString(),
          taggedSats: o.taggedSats.toString(),
          provenance: presentShares(o.provenance),
        })),
        origins: await withLots(caller, view.origins),
      };
    },
  );
}
