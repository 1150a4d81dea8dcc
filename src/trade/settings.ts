import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { AuditLog } from '../audit';
import type { Database, Orm } from '../db';
import { AppError, invalid, systemCaller, type Caller, type Clock } from '../kernel';
import { tradeFloors, tradeSettings } from './schema';
import { isSealed, type SecretBox } from './secrets';

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
  /**
   * The webhook signing secret as stored: sealed (`v1:…`, see secrets.ts), or a legacy plain-text
   * value until sealLegacyWebhookSecrets runs. Only openWebhookSecret reads the secret itself.
   */
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

/**
 * The supervisor's scheme-wide floors (issue 11): what no platform's settings go below, so that
 * a platform cannot lower its own quorum or confirmations, nor raise its quorum threshold to
 * keep every payout in the lower tier.
 */
export interface SettingsFloors {
  readonly minApprovalsAbove: number;
  readonly minApprovalsBelow: number;
  readonly maxQuorumThresholdSats: bigint;
  readonly minConfirmations: 0 | 1 | 2 | 6;
}

/**
 * The floors until the supervisor sets others: two officers above the threshold, one below,
 * a threshold of at most 1 BTC, one confirmation before settlement.
 */
export const DEFAULT_FLOORS: SettingsFloors = {
  minApprovalsAbove: 2,
  minApprovalsBelow: 1,
  maxQuorumThresholdSats: 100_000_000n,
  minConfirmations: 1,
};

export async function loadFloors(orm: Orm): Promise<SettingsFloors> {
  const [row] = await orm.select().from(tradeFloors).where(eq(tradeFloors.id, SCHEME_SETTINGS_ID));
  if (!row) return DEFAULT_FLOORS;
  return {
    minApprovalsAbove: row.minApprovalsAbove,
    minApprovalsBelow: row.minApprovalsBelow,
    maxQuorumThresholdSats: row.maxQuorumThresholdSats,
    minConfirmations: toConfirmations(row.minConfirmations),
  };
}

/** Settings as they take effect: never below the floors, whenever the row was stored. */
export function applyFloors(settings: TradeSettings, floors: SettingsFloors): TradeSettings {
  return {
    ...settings,
    approvalsAbove: Math.max(settings.approvalsAbove, floors.minApprovalsAbove),
    approvalsBelow: Math.max(settings.approvalsBelow, floors.minApprovalsBelow),
    quorumThresholdSats:
      settings.quorumThresholdSats > floors.maxQuorumThresholdSats
        ? floors.maxQuorumThresholdSats
        : settings.quorumThresholdSats,
    // Both are one of 0, 1, 2, 6, so the larger one is too.
    confirmations: toConfirmations(Math.max(settings.confirmations, floors.minConfirmations)),
  };
}

/** Refuses settings below a floor, naming the field (a 4xx, nothing written). */
export function checkFloors(settings: TradeSettings, floors: SettingsFloors): void {
  if (settings.approvalsAbove < floors.minApprovalsAbove) {
    throw invalid(
      'approvalsAbove',
      `must be at least the scheme's floor of ${floors.minApprovalsAbove}, got ${settings.approvalsAbove}`,
    );
  }
  if (settings.approvalsBelow < floors.minApprovalsBelow) {
    throw invalid(
      'approvalsBelow',
      `must be at least the scheme's floor of ${floors.minApprovalsBelow}, got ${settings.approvalsBelow}`,
    );
  }
  if (settings.quorumThresholdSats > floors.maxQuorumThresholdSats) {
    throw invalid(
      'quorumThresholdSats',
      `must be at most the scheme's ceiling of ${floors.maxQuorumThresholdSats} sats, got ${settings.quorumThresholdSats}`,
    );
  }
  if (settings.confirmations < floors.minConfirmations) {
    throw invalid(
      'confirmations',
      `must be at least the scheme's floor of ${floors.minConfirmations}, got ${settings.confirmations}`,
    );
  }
}

export type FloorsPatch = Partial<SettingsFloors>;

export function validateFloors(f: SettingsFloors): void {
  for (const field of ['minApprovalsAbove', 'minApprovalsBelow'] as const) {
    if (!Number.isInteger(f[field]) || f[field] < 1 || f[field] > 20)
      throw invalid(field, `must be an integer from 1 to 20, got ${f[field]}`);
  }
  if (![0, 1, 2, 6].includes(f.minConfirmations)) {
    throw invalid('minConfirmations', `must be 0, 1, 2 or 6, got ${f.minConfirmations}`);
  }
  if (f.maxQuorumThresholdSats < 0n) {
    throw invalid(
      'maxQuorumThresholdSats',
      `must not be negative, got ${f.maxQuorumThresholdSats}`,
    );
  }
}

/**
 * Changes the scheme's floors: the supervisor only, audited with before and after. Platforms'
 * stored settings are left as they are; loadSettings lifts them to the new floors.
 */
export async function updateFloors(
  db: Database,
  clock: Clock,
  caller: Caller,
  patch: FloorsPatch,
): Promise<SettingsFloors> {
  if (caller.role !== 'supervisor') {
    throw new AppError('FORBIDDEN', "only the supervisor sets the scheme's floors");
  }
  const audit = new AuditLog({ db, clock });
  return db.transaction(async (tx) => {
    const before = await loadFloors(tx);
    const after: SettingsFloors = { ...before, ...patch };
    validateFloors(after);
    const row = { id: SCHEME_SETTINGS_ID, ...after, updatedAt: clock.now() };
    await tx
      .insert(tradeFloors)
      .values(row)
      .onConflictDoUpdate({ target: tradeFloors.id, set: row });
    await audit.record(caller, {
      action: 'trade.floorsChanged',
      entityType: 'scheme',
      entityId: SCHEME_SETTINGS_ID,
      before: { ...before },
      after: { ...after },
    });
    return after;
  });
}

/**
 * The confirmations the scheme itself waits for before coins paid to it count (the clearing's
 * settlement-window pay-ins): the scheme's settings row lifted to the floors, as every
 * platform's is, and never fewer than one (a pay-in is never counted from the mempool).
 */
export async function schemeConfirmationDepth(orm: Orm): Promise<number> {
  return Math.max(1, (await loadSettings(orm, SCHEME_SETTINGS_ID)).confirmations);
}

/** A platform's settings as they take effect: its row (or the defaults), lifted to the floors. */
export async function loadSettings(orm: Orm, platformId: string): Promise<TradeSettings> {
  return applyFloors(await loadStoredSettings(orm, platformId), await loadFloors(orm));
}

/** The settings of several platforms, in two queries (theirs and the floors). */
export async function loadSettingsOf(
  orm: Orm,
  platformIds: readonly string[],
): Promise<Map<string, TradeSettings>> {
  if (platformIds.length === 0) return new Map();
  const rows = await orm
    .select()
    .from(tradeSettings)
    .where(inArray(tradeSettings.platformId, [...new Set(platformIds)]));
  const floors = await loadFloors(orm);
  const stored = new Map(rows.map((r) => [r.platformId, storedSettings(r)]));
  return new Map(
    platformIds.map((id) => [id, applyFloors(stored.get(id) ?? DEFAULT_SETTINGS, floors)]),
  );
}

async function loadStoredSettings(orm: Orm, platformId: string): Promise<TradeSettings> {
  const [row] = await orm
    .select()
    .from(tradeSettings)
    .where(eq(tradeSettings.platformId, platformId));
  return row ? storedSettings(row) : DEFAULT_SETTINGS;
}

function storedSettings(row: typeof tradeSettings.$inferSelect): TradeSettings {
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

export type SettingsPatch = Partial<Omit<TradeSettings, 'lastBatchAt' | 'webhookSecret'>> & {
  /** The secret in plain text: saveSettings seals it before it is stored. */
  readonly webhookSecret?: string | null;
};

/** The additional authenticated data a platform's webhook secret is sealed with. */
export function webhookSecretContext(platformId: string): string {
  return `trade_settings.webhook_secret:${platformId}`;
}

/** The secret to sign `platformId`'s deliveries with (a legacy plain-text value as it is). */
export function openWebhookSecret(secrets: SecretBox, platformId: string, stored: string): string {
  return isSealed(stored) ? secrets.open(stored, webhookSecretContext(platformId)) : stored;
}

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

/**
 * Applies `patch` to the platform's settings. A new webhook secret is sealed with `secrets`
 * (refused with CONFIG_INVALID when no key is configured); the result carries it sealed.
 */
export async function saveSettings(
  tx: Orm,
  platformId: string,
  patch: SettingsPatch,
  now: Date,
  secrets?: SecretBox,
): Promise<TradeSettings> {
  const current = await loadSettings(tx, platformId);
  const candidate: TradeSettings = { ...current, ...patch };
  validateSettings(candidate);
  // What is asked explicitly below a floor is refused; what was stored below it is lifted.
  checkFloors(candidate, await loadFloors(tx));
  let next = candidate;
  if (typeof patch.webhookSecret === 'string') {
    if (!secrets) throw new AppError('INTERNAL', 'no secret box to seal the webhook secret with');
    next = {
      ...candidate,
      webhookSecret: secrets.seal(patch.webhookSecret, webhookSecretContext(platformId)),
    };
  }
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

/**
 * Seals the webhook secrets still stored in plain text (written before they were encrypted at
 * rest). Each row in its own transaction, rewritten only if it still holds the plain value it
 * was read with, and audited: safe to run at every start and to interrupt at any point. Without
 * a key nothing is sealed and the plain rows keep signing as before.
 */
export async function sealLegacyWebhookSecrets(
  db: Database,
  secrets: SecretBox,
  clock: Clock,
): Promise<{ sealed: number; plain: number }> {
  const rows = await db.orm
    .select({ platformId: tradeSettings.platformId, webhookSecret: tradeSettings.webhookSecret })
    .from(tradeSettings)
    .where(isNotNull(tradeSettings.webhookSecret));
  const legacy = rows.filter(
    (row): row is { platformId: string; webhookSecret: string } =>
      row.webhookSecret !== null && !isSealed(row.webhookSecret),
  );
  if (!secrets.hasKey) return { sealed: 0, plain: legacy.length };
  const audit = new AuditLog({ db, clock });
  let sealed = 0;
  for (const row of legacy) {
    const value = secrets.seal(row.webhookSecret, webhookSecretContext(row.platformId));
    const changed = await db.transaction(async (tx) => {
      const updated = await tx
        .update(tradeSettings)
        .set({ webhookSecret: value, updatedAt: clock.now() })
        .where(
          and(
            eq(tradeSettings.platformId, row.platformId),
            eq(tradeSettings.webhookSecret, row.webhookSecret),
          ),
        )
        .returning({ platformId: tradeSettings.platformId });
      if (updated.length === 0) return false; // changed meanwhile: nothing to seal
      await audit.record(systemCaller('trade.secrets'), {
        action: 'trade.webhookSecretSealed',
        entityType: 'platform',
        entityId: row.platformId,
        before: { webhookSecret: 'plain text' },
        after: { webhookSecret: 'sealed (v1)' },
      });
      return true;
    });
    if (changed) sealed++;
  }
  return { sealed, plain: legacy.length - sealed };
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
