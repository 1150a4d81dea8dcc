import { useMemo } from 'react';
import { useNavigate } from 'react-router';
import { Code, Grid, Paper, Text, Timeline, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { DataTable } from '../components/DataTable';
import { EChart } from '../components/EChart';
import { Page } from '../components/Page';
import { Empty, ErrorState, Loading } from '../components/States';
import { formatDateTime } from '../format';
import { useLive } from '../live';
import { ROLE_LABELS, useUser } from '../session';

/** How many recent audit events the activity charts summarize. */
const RECENT = 500;

function ActivityDashboard() {
  const navigate = useNavigate();
  const events = useQuery({
    queryKey: ['audit', 'dashboard'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/audit', { params: { query: { limit: RECENT } } })).items,
  });
  const byEntity = useMemo(() => {
    const counts = new Map<string, number>();
    for (const e of events.data ?? [])
      counts.set(e.entityType, (counts.get(e.entityType) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]);
  }, [events.data]);
  const byDay = useMemo(() => {
    const counts = new Map<string, number>();
    for (const e of events.data ?? []) {
      const day = e.at.slice(0, 10);
      counts.set(day, (counts.get(day) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
  }, [events.data]);

  if (events.isPending) return <Loading />;
  if (events.error)
    return <ErrorState error={events.error} onRetry={() => void events.refetch()} />;
  if (!events.data.length) return <Empty>No activity recorded yet.</Empty>;
  return (
    <Grid>
      <Grid.Col span={{ base: 12, lg: 7 }}>
        <Paper withBorder p="md">
          <Title order={2} size="h4">
            Changes by entity type
          </Title>
          <Text size="sm" mb="xs">
            The last {events.data.length} audit events. Click a bar for the events behind it.
          </Text>
          <EChart
            label="Bar chart of recent audit events by entity type"
            option={{
              tooltip: { trigger: 'axis' },
              grid: { left: 100, right: 20, top: 10, bottom: 30 },
              xAxis: { type: 'value', minInterval: 1 },
              yAxis: { type: 'category', data: byEntity.map(([k]) => k).reverse() },
              series: [{ name: 'Events', type: 'bar', data: byEntity.map(([, v]) => v).reverse() }],
            }}
            onClick={(e) => void navigate(`/audit?entityType=${encodeURIComponent(e.name)}`)}
          />
        </Paper>
      </Grid.Col>
      <Grid.Col span={{ base: 12, lg: 5 }}>
        <Paper withBorder p="md">
          <Title order={2} size="h4">
            Changes per day
          </Title>
          <EChart
            label="Line chart of audit events per day"
            height={200}
            option={{
              tooltip: { trigger: 'axis' },
              grid: { left: 40, right: 20, top: 10, bottom: 30 },
              xAxis: { type: 'category', data: byDay.map(([d]) => d) },
              yAxis: { type: 'value', minInterval: 1 },
              series: [{ name: 'Events', type: 'line', data: byDay.map(([, v]) => v) }],
            }}
          />
          <DataTable
            caption="Audit events by entity type"
            columns={[
              { key: 'entity', header: 'Entity type', value: ([k]: [string, number]) => k },
              {
                key: 'count',
                header: 'Events',
                value: ([, v]: [string, number]) => String(v),
                align: 'right',
              },
            ]}
            rows={byEntity}
            rowKey={([k]) => k}
            csvName="activity-by-entity"
            onRowClick={([k]) => void navigate(`/audit?entityType=${encodeURIComponent(k)}`)}
          />
        </Paper>
      </Grid.Col>
    </Grid>
  );
}

function LiveFeed() {
  const live = useLive();
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Live activity in your scope
      </Title>
      <Text size="sm" mb="xs" data-testid="live-status" data-connected={String(live.connected)}>
        {live.connected
          ? 'Connected. Changes in your scope will appear here as they happen.'
          : 'Connecting to live updates…'}
      </Text>
      {live.recent.length === 0 ? null : (
        <Timeline bulletSize={12} lineWidth={2} data-testid="live-feed">
          {live.recent.slice(0, 10).map((event, index) => (
            <Timeline.Item
              key={`${event.at}-${index}`}
              title={String(event.payload.action ?? event.topic)}
            >
              <Text size="xs">
                {String(event.payload.entityType ?? '')}{' '}
                <Code>{String(event.payload.entityId ?? '')}</Code> · {formatDateTime(event.at)}
              </Text>
            </Timeline.Item>
          ))}
        </Timeline>
      )}
    </Paper>
  );
}

export function HomePage() {
  const user = useUser();
  const oversees = user.role === 'supervisor' || user.role === 'auditor';
  return (
    <Page
      title={oversees ? 'Scheme overview' : 'Overview'}
      description={
        <>
          Logged in as {user.displayName} ({ROLE_LABELS[user.role]}), participant{' '}
          <Code>{user.participantId}</Code>.
        </>
      }
    >
      {oversees && <ActivityDashboard />}
      <LiveFeed />
    </Page>
  );
}
