import { invalid } from '../kernel';

/**
 * A reporting period: a calendar month (`2026-07`), a quarter (`2026-Q3`) or a year (`2026`),
 * in UTC. Balance-of-payments statistics are compiled by calendar month and quarter (IMF BPM6,
 * ch. 3, "time of recording"), so these are the only shapes accepted; anything else is refused
 * with a message naming the field.
 */
export interface Period {
  readonly kind: 'month' | 'quarter' | 'year';
  /** The period as written: `2026-07`, `2026-Q3`, `2026`. */
  readonly label: string;
  /** First instant of the period (inclusive). */
  readonly from: Date;
  /** First instant after the period (exclusive). */
  readonly to: Date;
}

const MONTH = /^(\d{4})-(\d{2})$/;
const QUARTER = /^(\d{4})-Q(\d)$/i;
const YEAR = /^(\d{4})$/;

function utc(year: number, monthIndex: number): Date {
  return new Date(Date.UTC(year, monthIndex, 1));
}

function checkYear(year: number, field: string, text: string): void {
  if (year < 2009 || year > 2999) {
    throw invalid(field, `year must be between 2009 and 2999, got "${text}"`);
  }
}

export function parsePeriod(text: string, field = 'period'): Period {
  const value = text.trim();
  const hint = 'use a month like "2026-07", a quarter like "2026-Q3" or a year like "2026"';
  let match = MONTH.exec(value);
  if (match) {
    const year = Number(match[1]);
    const month = Number(match[2]);
    checkYear(year, field, text);
    if (month < 1 || month > 12) throw invalid(field, `month must be 01 to 12, got "${text}"`);
    return { kind: 'month', label: value, from: utc(year, month - 1), to: utc(year, month) };
  }
  match = QUARTER.exec(value);
  if (match) {
    const year = Number(match[1]);
    const quarter = Number(match[2]);
    checkYear(year, field, text);
    if (quarter < 1 || quarter > 4) throw invalid(field, `quarter must be Q1 to Q4, got "${text}"`);
    return {
      kind: 'quarter',
      label: `${year}-Q${quarter}`,
      from: utc(year, (quarter - 1) * 3),
      to: utc(year, quarter * 3),
    };
  }
  match = YEAR.exec(value);
  if (match) {
    const year = Number(match[1]);
    checkYear(year, field, text);
    return { kind: 'year', label: value, from: utc(year, 0), to: utc(year + 1, 0) };
  }
  throw invalid(field, `must be a reporting period (${hint}), got "${text}"`);
}

/** `2026-07` for a month (UTC); also checks a drill-down's `month` parameter. */
export function parseMonth(text: string, field = 'month'): Period {
  if (!MONTH.test(text.trim())) {
    throw invalid(field, `must be a month like "2026-07", got "${text}"`);
  }
  return parsePeriod(text, field);
}

/** The months (`YYYY-MM`) a period covers, in order. */
export function monthsOf(period: Period): string[] {
  const months: string[] = [];
  for (let d = period.from; d < period.to; d = utc(d.getUTCFullYear(), d.getUTCMonth() + 1)) {
    months.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return months;
}
