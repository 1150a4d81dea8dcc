/**
 * Transaction monitoring rules as data: each rule has a versioned id (`rule.velocity@1`), a zod
 * schema for its configuration and a pure evaluation `(facts, config) → { outcome, score,
 * reason }` (the pattern of Tazama's rule processors). Gathering the facts is the engine's job, not theirs.
 * Fiat amounts are bigint minor units; a rule compares only amounts in its own currency.
 */
import { z } from 'zod';
import { windowKey, type WindowFacts, type WindowFactsByKey, type WindowSpec } from './windows';

export interface MonitoredTransfer {
  transferId: string;
  direction: 'inbound' | 'outbound';
  companyId: string;
  counterpartyId: string;
  counterpartyAddress: string;
  amountSats: bigint;
  fiatMinor: bigint;
  fiatCurrency: string;
  occurredAt: Date;
}

export interface MonitoringFacts {
  transfer: MonitoredTransfer;
  counterpartyCountry: string;
  countryRiskLevel: 'low' | 'medium' | 'high';
  contract: { openAmountSats: bigint; toleranceSats: bigint } | null;
  /**
   * Aggregates over the company's earlier transfers (this one excluded), one per window a rule
   * asked for (`Rule.windows`), by `windowKey`.
   */
  windows: WindowFactsByKey;
  /** The nearest sanctioned address reachable from this transfer in the scheme's transfer graph. */
  exposure: { hops: number; address: string; listEntryId: string } | null;
}

export interface RuleResult {
  outcome: 'pass' | 'hit';
  score: number;
  reason: string;
}

export interface Rule<C> {
  /** `rule.<name>@<version>` */
  id: string;
  configSchema: z.ZodType<C>;
  evaluate(facts: MonitoringFacts, config: C): RuleResult;
  /** The windows over the company's earlier transfers the rule looks at under this configuration. */
  windows(config: C): WindowSpec[];
}

const minor = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of fiat minor units, as a string')
  .transform((v) => BigInt(v));
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code');
const score = z.number().min(0).max(1000);
const hours = z
  .number()
  .positive()
  .max(24 * 365);

const pass = (reason: string): RuleResult => ({ outcome: 'pass', score: 0, reason });
/** The window a rule asked for; the engine gathers every window of the configured rules. */
const windowOf = (facts: MonitoringFacts, spec: WindowSpec): WindowFacts => {
  const found = facts.windows.get(windowKey(spec));
  if (!found) throw new Error(`monitoring facts lack the window ${windowKey(spec)}`);
  return found;
};
const fmt = (value: bigint, cur: string) => {
  const s = value.toString().padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)} ${cur}`;
};

export const singleThreshold: Rule<{ thresholdMinor: bigint; currency: string; score: number }> = {
  id: 'rule.single-threshold@1',
  configSchema: z.object({ thresholdMinor: minor, currency, score }).strict(),
  windows: () => [],
  evaluate(facts, c) {
    const t = facts.transfer;
    if (t.fiatCurrency !== c.currency || t.fiatMinor < c.thresholdMinor)
      return pass('below the single-transfer threshold');
    return {
      outcome: 'hit',
      score: c.score,
      reason: `single transfer of ${fmt(t.fiatMinor, t.fiatCurrency)} at or above ${fmt(c.thresholdMinor, c.currency)}`,
    };
  },
};

export const velocity: Rule<{
  windowHours: number;
  maxCount: number;
  maxSumMinor: bigint;
  currency: string;
  score: number;
}> = {
  id: 'rule.velocity@1',
  configSchema: z
    .object({
      windowHours: hours,
      maxCount: z.number().int().positive(),
      maxSumMinor: minor,
      currency,
      score,
    })
    .strict(),
  // Every transfer counts; only those in the rule's currency are summed.
  windows: (c) => [{ hours: c.windowHours }, { hours: c.windowHours, currency: c.currency }],
  evaluate(facts, c) {
    const t = facts.transfer;
    const count = windowOf(facts, { hours: c.windowHours }).count + 1;
    const sum =
      windowOf(facts, { hours: c.windowHours, currency: c.currency }).fiatSum +
      (t.fiatCurrency === c.currency ? t.fiatMinor : 0n);
    if (count <= c.maxCount && sum <= c.maxSumMinor) return pass('velocity within limits');
    return {
      outcome: 'hit',
      score: c.score,
      reason: `${count} transfers summing ${fmt(sum, c.currency)} in ${c.windowHours} h (limits ${c.maxCount} and ${fmt(c.maxSumMinor, c.currency)})`,
    };
  },
};

/** The transfers just under the threshold (by at most marginPercent) within the window. */
function structuringBand(c: {
  thresholdMinor: bigint;
  currency: string;
  marginPercent: number;
  windowHours: number;
}): WindowSpec & { fiatFrom: bigint } {
  return {
    hours: c.windowHours,
    currency: c.currency,
    fiatFrom: (c.thresholdMinor * BigInt(100 - c.marginPercent)) / 100n,
    fiatBelow: c.thresholdMinor,
  };
}

export const structuring: Rule<{
  thresholdMinor: bigint;
  currency: string;
  marginPercent: number;
  windowHours: number;
  minCount: number;
  score: number;
}> = {
  id: 'rule.structuring@1',
  configSchema: z
    .object({
      thresholdMinor: minor,
      currency,
      marginPercent: z.number().int().min(1).max(50),
      windowHours: hours,
      minCount: z.number().int().min(2),
      score,
    })
    .strict(),
  windows: (c) => [structuringBand(c)],
  evaluate(facts, c) {
    const band = structuringBand(c);
    const t = facts.transfer;
    const justUnder =
      t.fiatCurrency === c.currency &&
      t.fiatMinor >= band.fiatFrom &&
      t.fiatMinor < c.thresholdMinor;
    if (!justUnder) return pass('not just under the threshold');
    const count = windowOf(facts, band).count + 1;
    if (count < c.minCount) return pass(`${count} transfer(s) just under the threshold`);
    return {
      outcome: 'hit',
      score: c.score,
      reason: `${count} transfers within ${c.marginPercent}% under ${fmt(c.thresholdMinor, c.currency)} in ${c.windowHours} h (structuring)`,
    };
  },
};

export const fanInOut: Rule<{ windowHours: number; maxCounterparties: number; score: number }> = {
  id: 'rule.fan-in-out@1',
  configSchema: z
    .object({ windowHours: hours, maxCounterparties: z.number().int().positive(), score })
    .strict(),
  windows: (c) => [{ hours: c.windowHours, direction: 'same', counterparties: true }],
  evaluate(facts, c) {
    const direction = facts.transfer.direction;
    // Distinct counterparties of the transfers in the current one's direction, it included.
    const parties = windowOf(facts, {
      hours: c.windowHours,
      direction: 'same',
      counterparties: true,
    }).counterpartiesWithCurrent;
    if (parties <= c.maxCounterparties) return pass('counterparty spread within limits');
    return {
      outcome: 'hit',
      score: c.score,
      reason: `${direction === 'inbound' ? 'fan-in' : 'fan-out'}: ${parties} distinct counterparties in ${c.windowHours} h (limit ${c.maxCounterparties})`,
    };
  },
};

export const passThrough: Rule<{ windowHours: number; minPercent: number; score: number }> = {
  id: 'rule.pass-through@1',
  configSchema: z
    .object({ windowHours: hours, minPercent: z.number().int().min(1).max(100), score })
    .strict(),
  windows: (c) => [{ hours: c.windowHours, direction: 'inbound' }],
  evaluate(facts, c) {
    const t = facts.transfer;
    if (t.direction !== 'outbound') return pass('not an outbound transfer');
    const received = windowOf(facts, { hours: c.windowHours, direction: 'inbound' }).satsSum;
    if (received === 0n || t.amountSats * 100n < received * BigInt(c.minPercent))
      return pass('no rapid pass-through');
    return {
      outcome: 'hit',
      score: c.score,
      reason: `sends on ${t.amountSats} sats within ${c.windowHours} h of receiving ${received} sats (rapid pass-through)`,
    };
  },
};

export const highRiskJurisdiction: Rule<{ levels: Array<'medium' | 'high'>; score: number }> = {
  id: 'rule.high-risk-jurisdiction@1',
  configSchema: z.object({ levels: z.array(z.enum(['medium', 'high'])).min(1), score }).strict(),
  windows: () => [],
  evaluate(facts, c) {
    if (facts.countryRiskLevel === 'low' || !c.levels.includes(facts.countryRiskLevel))
      return pass('counterparty jurisdiction not high-risk');
    return {
      outcome: 'hit',
      score: c.score,
      reason: `counterparty in ${facts.counterpartyCountry}, rated ${facts.countryRiskLevel} risk`,
    };
  },
};

export const roundAmount: Rule<{
  multipleMinor: bigint;
  minMinor: bigint;
  currency: string;
  score: number;
}> = {
  id: 'rule.round-amount@1',
  configSchema: z.object({ multipleMinor: minor, minMinor: minor, currency, score }).strict(),
  windows: () => [],
  evaluate(facts, c) {
    const t = facts.transfer;
    if (t.fiatCurrency !== c.currency || t.fiatMinor < c.minMinor || c.multipleMinor === 0n)
      return pass('not a large round amount');
    if (t.fiatMinor % c.multipleMinor !== 0n) return pass('not a round amount');
    return {
      outcome: 'hit',
      score: c.score,
      reason: `round amount ${fmt(t.fiatMinor, t.fiatCurrency)} (a multiple of ${fmt(c.multipleMinor, c.currency)})`,
    };
  },
};

export const contractMismatch: Rule<{ score: number }> = {
  id: 'rule.contract-mismatch@1',
  configSchema: z.object({ score }).strict(),
  windows: () => [],
  evaluate(facts, c) {
    const contract = facts.contract;
    if (!contract) return pass('no contract to compare');
    if (facts.transfer.amountSats <= contract.openAmountSats + contract.toleranceSats)
      return pass("within the contract's open amount");
    return {
      outcome: 'hit',
      score: c.score,
      reason: `payment of ${facts.transfer.amountSats} sats exceeds the contract's open amount ${contract.openAmountSats} sats (+${contract.toleranceSats} tolerance)`,
    };
  },
};

export const sanctionedExposure: Rule<{ maxHops: number; score: number }> = {
  id: 'rule.sanctioned-exposure@1',
  configSchema: z.object({ maxHops: z.number().int().min(1).max(6), score }).strict(),
  windows: () => [],
  evaluate(facts, c) {
    const e = facts.exposure;
    if (!e || e.hops > c.maxHops) return pass(`no sanctioned address within ${c.maxHops} hops`);
    // Closer exposure weighs more: full score at one hop, halved per further hop.
    const weighted = c.score / 2 ** (e.hops - 1);
    return {
      outcome: 'hit',
      score: weighted,
      reason: `sanctioned address ${e.address} (${e.listEntryId}) is ${e.hops} hop(s) away in the scheme's transfer graph`,
    };
  },
};

/** Every rule, by id. */
export const RULES = {
  [singleThreshold.id]: singleThreshold,
  [velocity.id]: velocity,
  [structuring.id]: structuring,
  [fanInOut.id]: fanInOut,
  [passThrough.id]: passThrough,
  [highRiskJurisdiction.id]: highRiskJurisdiction,
  [roundAmount.id]: roundAmount,
  [contractMismatch.id]: contractMismatch,
  [sanctionedExposure.id]: sanctionedExposure,
} as Record<string, Rule<unknown>>;
