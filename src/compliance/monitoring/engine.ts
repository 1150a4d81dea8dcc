/**
 * The monitoring engine: a configuration (which rules run, with what settings, and the score
 * thresholds) checked once, and a pure evaluation over gathered facts. The outcome comes from
 * the summed scores: at least `reviewAt` → review, at least `blockAt` → block.
 */
import { z } from 'zod';
import { AppError } from '../../kernel';
import { RULES, type MonitoringFacts, type Rule } from './rules';
import { windowKey, type WindowSpec } from './windows';

export interface MonitoringConfigInput {
  reviewAt: number;
  blockAt: number;
  rules: Array<{ rule: string; config: unknown }>;
}

export interface CompiledRule {
  rule: Rule<unknown>;
  config: unknown;
}

export interface MonitoringConfig {
  reviewAt: number;
  blockAt: number;
  rules: CompiledRule[];
  /** Every window over earlier transfers the rules look at (one per distinct spec). */
  windows: WindowSpec[];
  /** The longest of those windows, in hours. */
  lookbackHours: number;
  exposureHops: number;
}

export interface MonitoringResult {
  outcome: 'allow' | 'review' | 'block';
  score: number;
  results: Array<{ rule: string; outcome: 'pass' | 'hit'; score: number; reason: string }>;
  ruleVersions: string[];
}

/** The default rule set: amounts in USD cents; thresholds a supervisor would start from. */
export const DEFAULT_MONITORING: MonitoringConfigInput = {
  reviewAt: 50,
  blockAt: 100,
  rules: [
    {
      rule: 'rule.single-threshold@1',
      config: { thresholdMinor: '100000000', currency: 'USD', score: 30 },
    },
    {
      rule: 'rule.velocity@1',
      config: {
        windowHours: 24,
        maxCount: 20,
        maxSumMinor: '500000000',
        currency: 'USD',
        score: 30,
      },
    },
    {
      rule: 'rule.structuring@1',
      config: {
        thresholdMinor: '1000000',
        currency: 'USD',
        marginPercent: 10,
        windowHours: 72,
        minCount: 3,
        score: 60,
      },
    },
    { rule: 'rule.fan-in-out@1', config: { windowHours: 24, maxCounterparties: 10, score: 30 } },
    { rule: 'rule.pass-through@1', config: { windowHours: 2, minPercent: 80, score: 40 } },
    { rule: 'rule.high-risk-jurisdiction@1', config: { levels: ['high'], score: 30 } },
    {
      rule: 'rule.round-amount@1',
      config: { multipleMinor: '100000', minMinor: '1000000', currency: 'USD', score: 10 },
    },
    { rule: 'rule.contract-mismatch@1', config: { score: 60 } },
    { rule: 'rule.sanctioned-exposure@1', config: { maxHops: 2, score: 80 } },
  ],
};

const configInput = z
  .object({
    reviewAt: z.number().positive(),
    blockAt: z.number().positive(),
    rules: z.array(z.object({ rule: z.string(), config: z.unknown() }).strict()),
  })
  .strict()
  .refine((c) => c.blockAt >= c.reviewAt, {
    message: 'blockAt must be at least reviewAt',
    path: ['blockAt'],
  });

/** Checks every rule's configuration against its schema; a bad one is refused naming the rule. */
export function compileMonitoring(input: MonitoringConfigInput): MonitoringConfig {
  const parsed = configInput.safeParse(input);
  if (!parsed.success) {
    throw new AppError(
      'CONFIG_INVALID',
      `monitoring: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const rules: CompiledRule[] = [];
  const windows = new Map<string, WindowSpec>();
  let lookbackHours = 0;
  let exposureHops = 0;
  for (const [i, entry] of parsed.data.rules.entries()) {
    const rule = RULES[entry.rule];
    if (!rule) {
      throw new AppError(
        'CONFIG_INVALID',
        `monitoring.rules.${i}: unknown rule "${entry.rule}" (known: ${Object.keys(RULES).join(', ')})`,
      );
    }
    const config = rule.configSchema.safeParse(entry.config);
    if (!config.success) {
      throw new AppError(
        'CONFIG_INVALID',
        `monitoring.rules.${i} (${entry.rule}): ${config.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      );
    }
    rules.push({ rule, config: config.data });
    for (const spec of rule.windows(config.data)) {
      windows.set(windowKey(spec), spec);
      lookbackHours = Math.max(lookbackHours, spec.hours);
    }
    if (entry.rule.startsWith('rule.sanctioned-exposure@')) {
      exposureHops = Math.max(exposureHops, (config.data as { maxHops: number }).maxHops);
    }
  }
  return {
    reviewAt: parsed.data.reviewAt,
    blockAt: parsed.data.blockAt,
    rules,
    windows: [...windows.values()],
    lookbackHours,
    exposureHops,
  };
}

/** Pure: evaluates every configured rule and sums the scores. */
export function evaluateMonitoring(
  config: MonitoringConfig,
  facts: MonitoringFacts,
): MonitoringResult {
  const results = config.rules.map(({ rule, config: c }) => ({
    rule: rule.id,
    ...rule.evaluate(facts, c),
  }));
  const score = results.reduce((acc, r) => acc + r.score, 0);
  const outcome = score >= config.blockAt ? 'block' : score >= config.reviewAt ? 'review' : 'allow';
  return { outcome, score, results, ruleVersions: config.rules.map((r) => r.rule.id) };
}
