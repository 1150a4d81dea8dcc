import { desc } from 'drizzle-orm';
import type { Orm } from '../db';
import { AppError, currency, invalid } from '../kernel';
import { rateFixingSettings } from './schema';

/**
 * The fixing rule the supervisor sets (issue 13), versioned: which sources are asked, how many
 * usable quotes a fixing needs, the outlier limit, the daily cut-off and the currencies fixed.
 */
export interface FixingSettings {
  /** 0 until the supervisor first sets the rule (the defaults below are then in force). */
  readonly version: number;
  /** The daily cut-off, HH:MM (UTC). */
  readonly cutoffTime: string;
  readonly currencies: readonly string[];
  readonly sources: readonly string[];
  readonly minSources: number;
  readonly maxDeviationBps: number;
  /** Set only when the supervisor explicitly allowed a fixing from a single source, and why. */
  readonly singleSourceReason: string | null;
  readonly setBy: string | null;
  readonly setAt: Date | null;
}

export interface FixingSettingsInput {
  readonly cutoffTime: string;
  readonly currencies: readonly string[];
  readonly sources: readonly string[];
  readonly minSources: number;
  readonly maxDeviationBps: number;
  /** The explicit flag a single-source rule (minSources 1) needs, with its reason. */
  readonly singleSource?: { readonly reason: string } | null;
}

/**
 * Until the supervisor sets a rule: every available source, at least two usable quotes, 200 bp,
 * a 16:00 UTC cut-off and no currency fixed by the daily job (a fixing is still published on
 * request). A deployment with only the manual desk therefore fixes nothing until told: one
 * source is never enough unless the supervisor says so.
 */
export function defaultFixingSettings(available: readonly string[]): FixingSettings {
  return {
    version: 0,
    cutoffTime: '16:00',
    currencies: [],
    sources: [...available],
    minSources: 2,
    maxDeviationBps: 200,
    singleSourceReason: null,
    setBy: null,
    setAt: null,
  };
}

export async function loadFixingSettings(
  orm: Orm,
  available: readonly string[],
): Promise<FixingSettings> {
  const [row] = await orm
    .select()
    .from(rateFixingSettings)
    .orderBy(desc(rateFixingSettings.version))
    .limit(1);
  if (!row) return defaultFixingSettings(available);
  return {
    version: row.version,
    cutoffTime: row.cutoffTime,
    currencies: stringList(row.currencies),
    sources: stringList(row.sources),
    minSources: row.minSources,
    maxDeviationBps: row.maxDeviationBps,
    singleSourceReason: row.singleSourceReason,
    setBy: row.setBy,
    setAt: row.setAt,
  };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Checks a rule before it is stored: known sources, each once; a minimum the sources can meet;
 * and the single-source rule, fail closed: a minimum of one usable quote is refused with
 * FIXING_SINGLE_SOURCE_NOT_EXPLICIT unless `singleSource.reason` says why.
 */
export function checkFixingSettings(
  input: FixingSettingsInput,
  available: readonly string[],
): Omit<FixingSettings, 'version' | 'setBy' | 'setAt'> {
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(input.cutoffTime)) {
    throw invalid('cutoffTime', `must be HH:MM (UTC), got "${input.cutoffTime}"`);
  }
  const currencies = input.currencies.map((c, i) => currency(c, `currencies[${i}]`));
  if (new Set(currencies).size !== currencies.length) {
    throw invalid('currencies', 'names a currency twice');
  }
  if (input.sources.length === 0) throw invalid('sources', 'must name at least one source');
  input.sources.forEach((name, i) => {
    if (!available.includes(name)) {
      throw invalid(
        `sources[${i}]`,
        `"${name}" is not a source of this deployment (available: ${available.join(', ')})`,
      );
    }
  });
  if (new Set(input.sources).size !== input.sources.length) {
    throw invalid('sources', 'names a source twice');
  }
  if (!Number.isInteger(input.minSources) || input.minSources < 1) {
    throw invalid('minSources', 'must be a whole number of at least 1');
  }
  if (input.minSources > input.sources.length) {
    throw invalid(
      'minSources',
      `is ${input.minSources} but only ${input.sources.length} source(s) are configured`,
    );
  }
  if (
    !Number.isInteger(input.maxDeviationBps) ||
    input.maxDeviationBps < 0 ||
    input.maxDeviationBps > 10_000
  ) {
    throw invalid('maxDeviationBps', 'must be a whole number of basis points from 0 to 10000');
  }
  const reason = input.singleSource?.reason.trim() ?? null;
  if (input.minSources === 1) {
    if (!reason || reason.length < 10) {
      throw new AppError(
        'FIXING_SINGLE_SOURCE_NOT_EXPLICIT',
        'a fixing from a single source needs the explicit singleSource flag with a reason (10+ characters)',
        {
          issues: [{ field: 'singleSource', message: 'required, with a reason, for minSources 1' }],
        },
      );
    }
  } else if (input.singleSource) {
    throw invalid(
      'singleSource',
      `is only for a rule of minSources 1 (this one needs ${input.minSources})`,
    );
  }
  return {
    cutoffTime: input.cutoffTime,
    currencies,
    sources: [...input.sources],
    minSources: input.minSources,
    maxDeviationBps: input.maxDeviationBps,
    singleSourceReason: input.minSources === 1 ? reason : null,
  };
}

/** The cut-off instant of a date under the rule. */
export function cutoffOf(date: string, settings: Pick<FixingSettings, 'cutoffTime'>): Date {
  return new Date(`${date}T${settings.cutoffTime}:00.000Z`);
}
