import { Button, Group, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import type { components } from '../api/schema';

type Ban = components['schemas']['MiningBan'];

const KIND_STYLE: Record<Ban['kind'], { letter: string; color: string; label: string }> = {
  full: { letter: 'F', color: 'red', label: 'full ban' },
  seasonal: { letter: 'S', color: 'grape', label: 'seasonal ban' },
  curtailment: { letter: 'C', color: 'blue', label: 'curtailment (daily hours)' },
};

const MONTH = /^(\d{4})-(\d{2})$/;

/** `2026-11` for the month containing `date` (UTC). */
export function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

/** The month `delta` months after `month` (`2026-12` + 1 → `2027-01`). */
export function shiftMonth(month: string, delta: number): string {
  const match = MONTH.exec(month);
  if (!match) return month;
  return monthOf(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1 + delta, 1)));
}

function daysOf(month: string): string[] {
  const match = MONTH.exec(month);
  if (!match) return [];
  const count = new Date(Date.UTC(Number(match[1]), Number(match[2]), 0)).getUTCDate();
  return Array.from({ length: count }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

/**
 * Does a ban cover a local calendar date of its region? The date part of the server's rule
 * (src/mining/calendar.ts): inside [fromDate, toDate], and inside the yearly season when there
 * is one (a season whose start is after its end wraps the year end). A curtailment covers the
 * date only during its daily hours, which the cell says. A lifted ban is no longer in force at
 * all (the server drops it from every check), so it is not drawn.
 */
export function banCoversDate(ban: Ban, date: string): boolean {
  if (ban.liftedAt) return false;
  if (date < ban.fromDate || date > ban.toDate) return false;
  const season = ban.season;
  if (!season) return true;
  const monthDay = date.slice(5);
  return season.start <= season.end
    ? season.start <= monthDay && monthDay <= season.end
    : monthDay >= season.start || monthDay <= season.end;
}

function describe(ban: Ban): string {
  const kind = KIND_STYLE[ban.kind].label;
  return ban.daily ? `${kind} ${ban.daily.start}–${ban.daily.end}` : kind;
}

/**
 * The regional ban calendar as a month grid: one row per region, one column per day, a cell
 * marked (letter and colour, and its meaning in words for screen readers) on each day a ban in
 * force covers. Dates are the local dates of each region, as the bans are declared.
 */
export function BanCalendar({
  bans,
  regions,
  month,
  onMonthChange,
}: {
  bans: readonly Ban[];
  regions: readonly { code: string; name: string }[];
  month: string;
  onMonthChange: (month: string) => void;
}) {
  const days = daysOf(month);
  const title = MONTH.test(month)
    ? new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-GB', {
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      })
    : month;
  return (
    <div data-testid="ban-calendar">
      <Group gap="sm" align="flex-end" mb="sm">
        <Button variant="default" onClick={() => onMonthChange(shiftMonth(month, -1))}>
          Previous month
        </Button>
        <TextInput
          type="month"
          label="Calendar month"
          value={month}
          onChange={(e) => {
            const value = e.currentTarget.value;
            if (MONTH.test(value)) onMonthChange(value);
          }}
          w={180}
        />
        <Button variant="default" onClick={() => onMonthChange(shiftMonth(month, 1))}>
          Next month
        </Button>
      </Group>
      {/* Wider than the page on small screens: the region scrolls, and takes the keyboard focus
          so that it can be scrolled without a mouse (WCAG 2.1.1). */}
      <div
        role="region"
        aria-label={`Ban calendar, ${title}`}
        tabIndex={0}
        style={{ overflowX: 'auto' }}
      >
        <Table withTableBorder withColumnBorders fz="xs" style={{ tableLayout: 'fixed' }}>
          <Table.Caption>
            Mining bans in force in {title}, by region and day (each region’s local dates; lifted
            bans are not in force and not drawn)
          </Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col" w={180}>
                Region
              </Table.Th>
              {days.map((day) => (
                <Table.Th key={day} scope="col" ta="center" p={2} w={26}>
                  {Number(day.slice(8))}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {regions.map((region) => {
              const regionBans = bans.filter((b) => b.regionCode === region.code);
              return (
                <Table.Tr key={region.code} data-region={region.code}>
                  <Table.Th scope="row" fw={500}>
                    {region.name}{' '}
                    <Text span size="xs">
                      ({region.code})
                    </Text>
                  </Table.Th>
                  {days.map((day) => {
                    const covering = regionBans.filter((b) => banCoversDate(b, day));
                    const first = covering[0];
                    if (!first) return <Table.Td key={day} p={2} />;
                    const style = KIND_STYLE[first.kind];
                    return (
                      <Table.Td
                        key={day}
                        p={2}
                        ta="center"
                        data-banned={covering.map((b) => b.id).join(' ')}
                        title={covering.map((b) => `${describe(b)}: ${b.reason}`).join('\n')}
                        style={{
                          background: `var(--mantine-color-${style.color}-light)`,
                          color: `var(--mantine-color-${style.color}-light-color)`,
                          fontWeight: 700,
                        }}
                      >
                        <span aria-hidden>
                          {covering.map((b) => KIND_STYLE[b.kind].letter).join('')}
                        </span>
                        <VisuallyHidden>{covering.map(describe).join(', ')}</VisuallyHidden>
                      </Table.Td>
                    );
                  })}
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </div>
      <Group gap="md" mt="xs" aria-hidden>
        {Object.values(KIND_STYLE).map((style) => (
          <Group key={style.letter} gap={6}>
            <Text
              span
              size="xs"
              fw={700}
              px={6}
              style={{
                background: `var(--mantine-color-${style.color}-light)`,
                color: `var(--mantine-color-${style.color}-light-color)`,
              }}
            >
              {style.letter}
            </Text>
            <Text span size="xs">
              {style.label}
            </Text>
          </Group>
        ))}
      </Group>
    </div>
  );
}
