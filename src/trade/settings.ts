import { eq } from 'drizzle-orm';
import type { Orm } from '../db';
import { AppError, invalid } from '../kernel';
import { tradeSettings } from './schema';

export const SCHEME_SETTINGS_ID = 'scheme';

export interface TradeSettings {
  /** Confirmations before a payment settles: 0, 1, 2 or 6 (0-conf never for RBF-signalling txs). */
  readonly confirmations: 0 | 1 | 2 | 6;
  readonly invoiceValiditySeconds: number;
  /** How long after expiry an invoice's address is still watched for late payments. */
  readonly latePaymentWindowSeconds: number;
  /** How far over a contract's open amount a payment may go, in basis points. */
  readonly toleranceBps: number;
  /** Maker-checker quorum: payouts above the threshold need `approvalsAbove` officers. */
  readonly quorumThresholdSats: bigint;
  readonly approvalsAbove: number;
  readonly approvalsBelow: number;
  readonly batchWindowSeconds: number;
  readonly feeFloorSatPerKvB: bigint;
  readonly feeCapSatPerKvB: bigint;
  readonly feeTargetBlocks: number;
  /** Fee-bump (BIP125) a batch unconfirmed after this many blocks. */
  readonly rbfAfterBlocks: number;
  /** Scheme row only: contract amounts (per currency, or BTC in sats) above which the supervisor approves too. */
  readonly supervisorThresholds: Readonly<Record<string, bigint>>;
  readonly webhookUrl: string | null;
  readonly webhookSecret: string | null;
  readonly lastBatchAt: Date | null;
}

export const DEFAULT_SETTINGS: TradeSettings = {
  confirmations: 1,
  invoiceValiditySeconds: 15 * 60,
  latePaymentWindowSeconds: 24 * 3600,
  toleranceBps: 0,
  quorumThresholdSats: 10_000_000n,
  approvalsAbove: 2,
  approvalsBelow: 1,
  batchWindowSeconds: 600,
  feeFloorSatPerKvB: 1_000n,
  feeCapSatPerKvB: 500_000n,
  feeTargetBlocks: 6,
  rbfAfterBlocks: 3,
  supervisorThresholds: {},
  webhookUrl: null,
  webhookSecret: null,
  lastBatchAt: null,
};

export async function loadSettings(orm: Orm, platformId: string): Promise<TradeSettings> {
  const [row] = await orm
    .select()
    .from(tradeSettings)
    .where(eq(tradeSettings.platformId, platformId));
  if (!row) return DEFAULT_SETTINGS;
  const thresholds: Record<string, bigint> = {};
  if (row.supervisorThresholds && typeof row.supervisorThresholds === 'object') {
    for (const [k, v] of Object.entries(row.supervisorThresholds as Record<string, unknown>)) {
      if (typeof v === 'string' && /^\d+$/.test(v)) thresholds[k] = BigInt(v);
    }
  }
  return {
    confirmations: toConfirmations(row.confirmations),
    invoiceValiditySeconds: row.invoiceValiditySeconds,
    latePaymentWindowSeconds: row.latePaymentWindowSeconds,
    toleranceBps: row.toleranceBps,
    quorumThresholdSats: row.quorumThresholdSats,
    approvalsAbove: row.approvalsAbove,
    approvalsBelow: row.approvalsBelow,
    batchWindowSeconds: row.batchWindowSeconds,
    feeFloorSatPerKvB: row.feeFloorSatPerKvB,
    feeCapSatPerKvB: row.feeCapSatPerKvB,
    feeTargetBlocks: row.feeTargetBlocks,
    rbfAfterBlocks: row.rbfAfterBlocks,
    supervisorThresholds: thresholds,
    webhookUrl: row.webhookUrl,
    webhookSecret: row.webhookSecret,
    lastBatchAt: row.lastBatchAt,
  };
}

function toConfirmations(value: number): 0 | 1 | 2 | 6 {
  if (value === 0 || value === 1 || value === 2 || value === 6) return value;
  throw new AppError('INTERNAL', `stored confirmations ${value} is not 0, 1, 2 or 6`);
}

export type SettingsPatch = Partial<Omit<TradeSettings, 'lastBatchAt'>>;

export function validateSettings(s: TradeSettings): void {
  if (![0, 1, 2, 6].includes(s.confirmations)) {
    throw invalid('confirmations', `must be 0, 1, 2 or 6, got ${s.confirmations}`);
  }
  const positive: [keyof TradeSettings, number][] = [
    ['invoiceValiditySeconds', s.invoiceValiditySeconds],
    ['approvalsAbove', s.approvalsAbove],
    ['approvalsBelow', s.approvalsBelow],
    ['feeTargetBlocks', s.feeTargetBlocks],
    ['rbfAfterBlocks', s.rbfAfterBlocks],
  ];
  for (const [field, value] of positive) {
    if (!Number.isInteger(value) || value < 1)
      throw invalid(field, `must be a positive integer, got ${value}`);
  }
  for (const [field, value] of [
    ['latePaymentWindowSeconds', s.latePaymentWindowSeconds],
    ['toleranceBps', s.toleranceBps],
    ['batchWindowSeconds', s.batchWindowSeconds],
  ] as const) {
    if (!Number.isInteger(value) || value < 0)
      throw invalid(field, `must be a non-negative integer, got ${value}`);
  }
  if (s.feeFloorSatPerKvB < 1000n) {
    throw invalid(
      'feeFloorSatPerKvB',
      `must be at least the 1000 sat/kvB minimum relay fee, got ${s.feeFloorSatPerKvB}`,
    );
  }
  if (s.feeCapSatPerKvB < s.feeFloorSatPerKvB) {
    throw invalid(
      'feeCapSatPerKvB',
      `must not be below the floor ${s.feeFloorSatPerKvB}, got ${s.feeCapSatPerKvB}`,
    );
  }
  if (s.webhookUrl !== null && !/^https?:\/\//.test(s.webhookUrl)) {
    throw invalid('webhookUrl', `must be an http(s) URL, got "${s.webhookUrl}"`);
  }
  if (s.webhookUrl !== null && (s.webhookSecret === null || s.webhookSecret.length < 16)) {
    throw invalid('webhookSecret', 'must be at least 16 characters when a webhook URL is set');
  }
}

export async function saveSettings(
  tx: Orm,
  platformId: string,
  patch: SettingsPatch,
  now: Date,
): Promise<TradeSettings> {
  const current = await loadSettings(tx, platformId);
  const next: TradeSettings = { ...current, ...patch };
  validateSettings(next);
  const row = {
    platformId,
    confirmations: next.confirmations,
    invoiceValiditySeconds: next.invoiceValiditySeconds,
    latePaymentWindowSeconds: next.latePaymentWindowSeconds,
    toleranceBps: next.toleranceBps,
    quorumThresholdSats: next.quorumThresholdSats,
    approvalsAbove: next.approvalsAbove,
    approvalsBelow: next.approvalsBelow,
    batchWindowSeconds: next.batchWindowSeconds,
    feeFloorSatPerKvB: next.feeFloorSatPerKvB,
    feeCapSatPerKvB: next.feeCapSatPerKvB,
    feeTargetBlocks: next.feeTargetBlocks,
    rbfAfterBlocks: next.rbfAfterBlocks,
    supervisorThresholds: Object.fromEntries(
      Object.entries(next.supervisorThresholds).map(([k, v]) => [k, v.toString()]),
    ),
    webhookUrl: next.webhookUrl,
    webhookSecret: next.webhookSecret,
    lastBatchAt: next.lastBatchAt,
    updatedAt: now,
  };
  await tx
    .insert(tradeSettings)
    .values(row)
    .onConflictDoUpdate({ target: tradeSettings.platformId, set: row });
  return next;
}

/** Officers needed for a payout of `amountSats` (maker-checker; the maker never counts). */
export function requiredApprovals(settings: TradeSettings, amountSats: bigint): number {
  return amountSats > settings.quorumThresholdSats
    ? settings.approvalsAbove
    : settings.approvalsBelow;
}

/** The fee rate to pay: the source's estimate, clamped to [floor, cap]; the floor when none. */
export function clampFeeRate(estimate: bigint | null, settings: TradeSettings): bigint {
  if (estimate === null || estimate < settings.feeFloorSatPerKvB) return settings.feeFloorSatPerKvB;
  return estimate > settings.feeCapSatPerKvB ? settings.feeCapSatPerKvB : estimate;
}
