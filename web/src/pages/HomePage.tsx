import { useState } from 'react';
import { Link } from 'react-router';
import {
  Anchor,
  Button,
  Code,
  Grid,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Timeline,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { Page } from '../components/Page';
import { StatusChip } from '../components/StatusChip';
import { ErrorState, Loading } from '../components/States';
import { formatBtc, formatDateTime, formatFiat } from '../format';
import { useLive } from '../live';
import { ROLE_LABELS, useUser } from '../session';

type Home = components['schemas']['Home'];
type Figure = Home['figures'][number];
type Queue = Home['queues'][number];
type Item = Queue['items'][number];

const ISO = /^\d{4}-\d\d-\d\dT/;

function figureText(f: Figure): string {
  if (f.unit === 'sats') return formatBtc(f.value);
  if (f.unit === 'fiat') return formatFiat(f.value, f.currency ?? 'USD');
  if (f.unit === 'count') return new Intl.NumberFormat().format(Number(f.value));
  return ISO.test(f.value) ? formatDateTime(f.value) : f.value;
}

/** How long ago, in the largest whole unit: "3 days", "5 h", "12 min". */
function age(iso: string, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} days`;
}

function FigureCard({ figure }: { figure: Figure }) {
  const body = (
    <Paper
      withBorder
      p="sm"
      h="100%"
      data-testid={`figure-${figure.key}`}
      data-value={figure.value}
    >
      <Text size="sm">{figure.label}</Text>
      <Text
        fw={700}
        size={figure.unit === 'count' ? 'xl' : 'md'}
        c={figure.attention ? 'red.9' : undefined}
        style={{ overflowWrap: 'anywhere' }}
      >
        {figureText(figure)}
      </Text>
    </Paper>
  );
  return figure.href ? (
    <UnstyledButton component={Link} to={figure.href}>
      {body}
    </UnstyledButton>
  ) : (
    body
  );
}

function itemAmount(item: Item): string | null {
  if (item.fiatMinor && item.currency) {
    const fiat = formatFiat(item.fiatMinor, item.currency);
    return item.sats ? `${fiat} · ${formatBtc(item.sats)}` : fiat;
  }
  return item.sats ? formatBtc(item.sats) : null;
}

function QueuePanel({ queue, now }: { queue: Queue; now: number }) {
  return (
    <Paper withBorder p="md" h="100%" data-testid={`queue-${queue.key}`} data-total={queue.total}>
      <Group justify="space-between" mb="xs" wrap="nowrap" align="flex-start">
        <Title order={2} size="h4">
          {queue.title}
        </Title>
        <Anchor component={Link} to={queue.href} size="sm" style={{ whiteSpace: 'nowrap' }}>
          {queue.total > queue.items.length ? `All ${queue.total}` : 'Open list'}
        </Anchor>
      </Group>
      {queue.items.length === 0 ? (
        <Text size="sm">{queue.empty}</Text>
      ) : (
        <Stack gap={6} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {queue.items.map((item) => (
            <li key={item.id} data-testid="queue-item" data-id={item.id}>
              <Group justify="space-between" wrap="nowrap" gap="xs" align="flex-start">
                <div style={{ minWidth: 0 }}>
                  <Anchor component={Link} to={item.href} fw={600} size="sm" title={item.id}>
                    {item.title}
                  </Anchor>
                  <Text size="xs" style={{ overflowWrap: 'anywhere' }}>
                    {[item.detail, itemAmount(item), item.at ? formatDateTime(item.at) : null]
                      .filter(Boolean)
                      .join(' · ')}
                    {item.at && Date.parse(item.at) < now ? ` (${age(item.at, now)} ago)` : ''}
                  </Text>
                </div>
                {item.badge && <StatusChip status={item.badge} />}
              </Group>
            </li>
          ))}
        </Stack>
      )}
    </Paper>
  );
}

/** The auditor's check of the hash chain, on demand (it reads every event). */
function VerifyChain() {
  const [result, setResult] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    try {
      const r = unwrap(await api.GET('/v1/audit/verify'));
      setResult(
        r.ok
          ? `Intact: ${r.events} events link up to the head.`
          : `Broken at event ${r.brokenEvent?.id ?? '?'}: ${r.reason ?? ''}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <Group gap="sm">
      <Button variant="default" loading={busy} onClick={() => void verify()}>
        Verify the audit chain
      </Button>
      {result && (
        <Text size="sm" data-testid="home-verify-result">
          {result}
        </Text>
      )}
    </Group>
  );
}

function WorkQueues() {
  const user = useUser();
  const home = useQuery({
    queryKey: ['home', user.role],
    queryFn: async () => unwrap(await api.GET('/v1/home')),
  });
  if (home.isPending) return <Loading />;
  if (home.error) return <ErrorState error={home.error} onRetry={() => void home.refetch()} />;
  const now = Date.parse(home.data.generatedAt);
  return (
    <Stack gap="md" data-testid="home">
      <section aria-label="Figures">
        <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} spacing="sm">
          {home.data.figures.map((f) => (
            <FigureCard key={f.key} figure={f} />
          ))}
        </SimpleGrid>
      </section>
      {user.role === 'auditor' && <VerifyChain />}
      <Grid>
        {home.data.queues.map((q) => (
          <Grid.Col key={q.key} span={{ base: 12, md: 6 }}>
            <QueuePanel queue={q} now={now} />
          </Grid.Col>
        ))}
      </Grid>
    </Stack>
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
        {live.status === 'live'
          ? 'Connected. Changes in your scope will appear here as they happen.'
          : live.status === 'offline'
            ? 'Live updates are unavailable; retrying.'
            : 'Connecting to live updates…'}
      </Text>
      {live.recent.length === 0 ? null : (
        <Timeline bulletSize={12} lineWidth={2} data-testid="live-feed">
          {live.recent.slice(0, 10).map((event, index) => (
            <Timeline.Item
              key={`${event.at}-${index}`}
              title={textOf(event.payload.action) || event.topic}
            >
              <Text size="xs">
                {textOf(event.payload.entityType)} <Code>{textOf(event.payload.entityId)}</Code> ·{' '}
                {formatDateTime(event.at)}
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
          Logged in as {user.displayName} ({ROLE_LABELS[user.role]}).
        </>
      }
    >
      <WorkQueues />
      <LiveFeed />
    </Page>
  );
}

/** A live event's payload field as text: strings and numbers as they are, anything else blank. */
function textOf(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
