import { Text, Timeline, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorState, Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { groupAlerts } from './shared';

interface CaseFacts {
  id: string;
  openedAt: string;
  alerts: Array<{ id: string; rule: string; message: string; createdAt: string }>;
}

interface Entry {
  at: string;
  /** Among entries at the same instant: the opening first, then alerts, then changes. */
  order: number;
  title: string;
  detail?: string;
}

type Snapshot = {
  state?: string;
  outcome?: string | null;
  assignee?: string | null;
  notes?: Array<{ text: string }>;
  linkedTransfers?: string[];
};

/** What one audited change of the case did, in words. */
function describe(
  before: Snapshot,
  after: Snapshot,
  nameOf: (id: string | null | undefined) => string,
): string[] {
  const said: string[] = [];
  if (after.state && after.state !== before.state)
    said.push(
      after.state === 'closed' ? `closed as ${after.outcome ?? '—'}` : `moved to ${after.state}`,
    );
  if (after.assignee !== undefined && after.assignee !== before.assignee)
    said.push(after.assignee ? `assigned to ${nameOf(after.assignee)}` : 'unassigned');
  const notes = after.notes ?? [];
  for (const n of notes.slice((before.notes ?? []).length)) said.push(`note: “${n.text}”`);
  if (after.linkedTransfers?.length)
    said.push(`linked ${after.linkedTransfers.length} transfer(s)`);
  return said;
}

/** The case's history: opened, its alerts, and every audited change, oldest first. */
export function CaseTimeline({
  c,
  nameOf,
}: {
  c: CaseFacts;
  nameOf: (id: string | null | undefined) => string;
}) {
  const audit = useQuery({
    queryKey: ['audit', 'case', c.id],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/audit', {
          params: { query: { entityType: 'case', entityId: c.id, limit: 500 } },
        }),
      ).items,
  });
  if (audit.isPending) return <Loading label="Reading the case history…" />;
  if (audit.error) return <ErrorState error={audit.error} />;
  const opened = audit.data.some((e) => e.action === 'case.opened');
  const entries: Entry[] = [
    ...(opened ? [] : [{ at: c.openedAt, order: 0, title: 'Case opened' }]),
    // Identical alert lines once, with their count and the last time raised.
    ...groupAlerts(c.alerts).map((g) => ({
      at: g.alerts.at(-1)?.createdAt ?? g.first.createdAt,
      order: 1,
      title: `Alert${g.alerts.length > 1 ? ` ×${g.alerts.length}` : ''}: ${g.first.rule}`,
      detail: g.first.message,
    })),
    ...audit.data.map((e) => ({
      at: e.at,
      order: e.action === 'case.opened' ? 0 : 2,
      title:
        e.action === 'case.opened'
          ? 'Case opened'
          : `${nameOf(e.actor)}: ${
              describe((e.before ?? {}) as Snapshot, (e.after ?? {}) as Snapshot, nameOf).join(
                '; ',
              ) || e.action
            }`,
    })),
  ].sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order);
  return (
    <section aria-label="Case timeline">
      <Title order={2} size="h4" mb="xs">
        Timeline
      </Title>
      <Timeline bulletSize={14} lineWidth={2}>
        {entries.map((e, i) => (
          <Timeline.Item key={i} title={e.title}>
            {e.detail && <Text size="sm">{e.detail}</Text>}
            <Text size="xs" c="dimmed">
              {formatDateTime(e.at)}
            </Text>
          </Timeline.Item>
        ))}
      </Timeline>
    </section>
  );
}
