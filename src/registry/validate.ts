import { AppError, invalid } from '../kernel';

/** Small input checks shared by the registry's use cases; each names the field it checks. */

export function requireText(value: string | undefined | null, field: string, max = 500): string {
  const trimmed = (value ?? '').trim();
  if (trimmed === '') throw invalid(field, 'must not be empty');
  if (trimmed.length > max)
    throw invalid(field, `must be at most ${max} characters, got ${trimmed.length}`);
  return trimmed;
}

export function optionalText(
  value: string | undefined | null,
  field: string,
  max = 500,
): string | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  return requireText(value, field, max);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date "YYYY-MM-DD" that exists (no 30 February). */
export function parseDate(value: string, field: string): string {
  const match = DATE.exec(value);
  if (!match) throw invalid(field, `must be a date like "2026-03-15", got "${value}"`);
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const probe = new Date(Date.UTC(y, m - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) {
    throw invalid(field, `is not a calendar date, got "${value}"`);
  }
  return value;
}

export function parseInstant(value: string, field: string): Date {
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(parsed.getTime())) {
    throw invalid(
      field,
      `must be an ISO 8601 date-time like "2026-07-01T00:00:00Z", got "${value}"`,
    );
  }
  return parsed;
}

/** An IANA time zone name the runtime knows (Intl), e.g. "Asia/Almaty". */
export function parseTimeZone(value: string, field = 'timeZone'): string {
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions()
      .timeZone;
    if (!value.includes('/') && value !== 'UTC') throw new Error('not a region/city name');
    return resolved === value ? value : value;
  } catch {
    throw invalid(field, `must be an IANA time zone such as "Asia/Almaty", got "${value}"`);
  }
}

/** A percentage with at most 2 decimals ("25", "33.34") as basis points. */
export function parsePercentBasisPoints(value: string, field: string): number {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) throw invalid(field, `must be a percentage like "25" or "33.34", got "${value}"`);
  const basisPoints = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  if (basisPoints > 10_000) throw invalid(field, `must be at most 100 %, got "${value}"`);
  return basisPoints;
}

export function formatBasisPoints(basisPoints: number): string {
  const whole = Math.floor(basisPoints / 100);
  const fraction = basisPoints % 100;
  return fraction === 0
    ? String(whole)
    : `${whole}.${String(fraction).padStart(2, '0').replace(/0$/, '')}`;
}

export function conflict(message: string): AppError {
  return new AppError('CONFLICT', message);
}
