import { AppError } from '../kernel';

/**
 * The regional ban calendar, as pure functions over local calendar dates and times.
 *
 * Every ban is normalized to one shape: a range of local dates [fromDate, toDate] (inclusive),
 * optionally restricted to a yearly season [start, end] of month-days (inclusive; a season whose
 * start is after its end wraps the year end, e.g. 11-15 → 03-15), optionally restricted to a daily
 * window of local time [start, end) (wrapping midnight when start > end). "Local" is the region's
 * IANA time zone, so a ban "from 15 November" starts at local midnight in that region.
 *
 * - full: every moment of every date from `from` to `to`;
 * - seasonal: the season starting in each year from `startYear` to `endYear` (a season that wraps
 *   the year end and starts in `endYear` ends in `endYear + 1`);
 * - curtailment (peak hours): the daily window on every date from `from` to `to`, optionally only
 *   within a season.
 */
export type BanKind = 'full' | 'seasonal' | 'curtailment';

export type BanInput =
  | { kind: 'full'; from: string; to: string }
  | { kind: 'seasonal'; seasonStart: string; seasonEnd: string; startYear: number; endYear: number }
  | {
      kind: 'curtailment';
      from: string;
      to: string;
      dailyStart: string;
      dailyEnd: string;
      seasonStart?: string | undefined;
      seasonEnd?: string | undefined;
    };

export interface BanRule {
  readonly kind: BanKind;
  readonly fromDate: string;
  readonly toDate: string;
  readonly season: { readonly start: string; readonly end: string } | null;
  readonly daily: { readonly start: string; readonly end: string } | null;
}

function banError(field: string, message: string): AppError {
  return new AppError('BAN_PERIOD_INVALID', `${field} ${message}`, {
    issues: [{ field, message }],
  });
}

const MIN_YEAR = 2000;
const MAX_YEAR = 2200;

function checkDate(value: string, field: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const probe = match
    ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])))
    : null;
  if (!match || !probe || probe.toISOString().slice(0, 10) !== value) {
    throw banError(field, `must be a calendar date like "2026-11-15", got "${value}"`);
  }
  const year = Number(match[1]);
  if (year < MIN_YEAR || year > MAX_YEAR)
    throw banError(field, `must be a year from ${MIN_YEAR} to ${MAX_YEAR}, got ${year}`);
  return value;
}

function checkMonthDay(value: string, field: string): string {
  const match = /^(\d{2})-(\d{2})$/.exec(value);
  // 2001 is not a leap year: 29 February would be a season bound that exists only some years.
  const probe = match ? new Date(Date.UTC(2001, Number(match[1]) - 1, Number(match[2]))) : null;
  if (!match || !probe || probe.toISOString().slice(5, 10) !== value) {
    throw banError(field, `must be a month and day like "11-15" (not 02-29), got "${value}"`);
  }
  return value;
}

function checkTime(value: string, field: string): string {
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(value))
    throw banError(field, `must be a local time like "18:00", got "${value}"`);
  return value;
}

function checkYear(value: number, field: string): number {
  if (!Number.isInteger(value) || value < MIN_YEAR || value > MAX_YEAR) {
    throw banError(field, `must be a year from ${MIN_YEAR} to ${MAX_YEAR}, got ${value}`);
  }
  return value;
}

/** Checks a ban as entered and normalizes it; an inverted or empty period is BAN_PERIOD_INVALID. */
export function normalizeBan(input: BanInput): BanRule {
  switch (input.kind) {
    case 'full': {
      const fromDate = checkDate(input.from, 'from');
      const toDate = checkDate(input.to, 'to');
      if (toDate < fromDate)
        throw banError('to', `is before from (${fromDate} → ${toDate}): the period is inverted`);
      return { kind: 'full', fromDate, toDate, season: null, daily: null };
    }
    case 'seasonal': {
      const start = checkMonthDay(input.seasonStart, 'seasonStart');
      const end = checkMonthDay(input.seasonEnd, 'seasonEnd');
      if (start === end)
        throw banError(
          'seasonEnd',
          `equals seasonStart (${start}); a one-day season is a full ban of that day`,
        );
      const startYear = checkYear(input.startYear, 'startYear');
      const endYear = checkYear(input.endYear, 'endYear');
      if (endYear < startYear)
        throw banError(
          'endYear',
          `is before startYear (${startYear} → ${endYear}): the period is inverted`,
        );
      const wraps = start > end;
      return {
        kind: 'seasonal',
        fromDate: `${startYear}-${start}`,
        toDate: `${wraps ? endYear + 1 : endYear}-${end}`,
        season: { start, end },
        daily: null,
      };
    }
    case 'curtailment': {
      const fromDate = checkDate(input.from, 'from');
      const toDate = checkDate(input.to, 'to');
      if (toDate < fromDate)
        throw banError('to', `is before from (${fromDate} → ${toDate}): the period is inverted`);
      const start = checkTime(input.dailyStart, 'dailyStart');
      const end = checkTime(input.dailyEnd, 'dailyEnd');
      if (start === end)
        throw banError('dailyEnd', `equals dailyStart (${start}): the daily window is empty`);
      let season: BanRule['season'] = null;
      if (input.seasonStart !== undefined || input.seasonEnd !== undefined) {
        const s = checkMonthDay(input.seasonStart ?? '', 'seasonStart');
        const e = checkMonthDay(input.seasonEnd ?? '', 'seasonEnd');
        if (s === e) throw banError('seasonEnd', `equals seasonStart (${s})`);
        season = { start: s, end: e };
      }
      return { kind: 'curtailment', fromDate, toDate, season, daily: { start, end } };
    }
    default:
      throw banError('kind', 'must be full, seasonal or curtailment');
  }
}

export interface LocalTime {
  /** YYYY-MM-DD in the zone. */
  readonly date: string;
  /** HH:MM (24 h) in the zone. */
  readonly time: string;
}

/** The local calendar date and time of `at` in an IANA time zone. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    date: `${part('year')}-${part('month')}-${part('day')}`,
    time: `${part('hour')}:${part('minute')}`,
  };
}

function inSeason(season: BanRule['season'], monthDay: string): boolean {
  if (!season) return true;
  return season.start <= season.end
    ? season.start <= monthDay && monthDay <= season.end
    : monthDay >= season.start || monthDay <= season.end;
}

function inDaily(daily: BanRule['daily'], time: string): boolean {
  if (!daily) return true;
  return daily.start < daily.end
    ? daily.start <= time && time < daily.end
    : time >= daily.start || time < daily.end;
}

/** Is a local date and time inside the ban? */
export function banCovers(rule: BanRule, local: LocalTime): boolean {
  return (
    rule.fromDate <= local.date &&
    local.date <= rule.toDate &&
    inSeason(rule.season, local.date.slice(5)) &&
    inDaily(rule.daily, local.time)
  );
}

/** The bans (of one region, in its zone) in force at `at`. */
export function bansInForce<T extends BanRule>(
  rules: readonly T[],
  at: Date,
  timeZone: string,
): T[] {
  const local = localTime(at, timeZone);
  return rules.filter((rule) => banCovers(rule, local));
}

function minutesOf(daily: BanRule['daily']): boolean[] {
  const minutes = new Array<boolean>(1440).fill(daily === null);
  if (!daily) return minutes;
  const toMinute = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
  const start = toMinute(daily.start);
  const end = toMinute(daily.end);
  for (let m = 0; m < 1440; m++)
    minutes[m] = start < end ? m >= start && m < end : m >= start || m < end;
  return minutes;
}

function addDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/**
 * The first local date on which two bans of one region both hold at some moment, or null. Exact:
 * it walks the dates both ranges share (at most a few hundred years of days).
 */
export function firstOverlap(a: BanRule, b: BanRule): string | null {
  const minutesA = minutesOf(a.daily);
  const minutesB = minutesOf(b.daily);
  if (!minutesA.some((covered, m) => covered && minutesB[m] === true)) return null;
  const from = a.fromDate > b.fromDate ? a.fromDate : b.fromDate;
  const to = a.toDate < b.toDate ? a.toDate : b.toDate;
  for (let date = from; date <= to; date = addDay(date)) {
    const monthDay = date.slice(5);
    if (inSeason(a.season, monthDay) && inSeason(b.season, monthDay)) return date;
  }
  return null;
}

/** Refuses a new ban that overlaps one of the region's bans (BAN_PERIOD_INVALID naming it). */
export function assertNoOverlap(
  rule: BanRule,
  existing: readonly (BanRule & { id: string })[],
): void {
  for (const other of existing) {
    const date = firstOverlap(rule, other);
    if (date !== null) {
      throw new AppError(
        'BAN_PERIOD_INVALID',
        `the ban overlaps ban ${other.id} (${describeBan(other)}) of the same region, first on ${date}; change or lift that one first`,
        { details: { overlapsBanId: other.id, firstOverlappingDate: date } },
      );
    }
  }
}

export function describeBan(rule: BanRule): string {
  const season = rule.season ? `, every year ${rule.season.start} to ${rule.season.end}` : '';
  const daily = rule.daily ? `, daily ${rule.daily.start}–${rule.daily.end}` : '';
  return `${rule.kind} ${rule.fromDate} to ${rule.toDate}${season}${daily}`;
}
