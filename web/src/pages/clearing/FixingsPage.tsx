import { useState } from 'react';
import { Button, Group, Paper, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { ratePerBtc, ReasonForm } from './shared';

type Fixing = components['schemas']['RateFixing'];

const sourceWords = (s: Fixing['sources'][number]) =>
  `${s.name}: ${s.rate ?? 'no quote'}${s.used ? '' : ` (not used${s.reason ? `: ${s.reason}` : ''})`}`;

const COLUMNS: Column<Fixing>[] = [
  { key: 'date', header: 'Date', value: (f) => f.date },
  { key: 'quote', header: 'Currency', value: (f) => f.quote },
  {
    key: 'rate',
    header: 'Reference rate',
    value: (f) => f.rate,
    render: (f) => ratePerBtc(f.rate, f.quote),
    align: 'right',
  },
  { key: 'version', header: 'Version', value: (f) => String(f.version), align: 'right' },
  {
    key: 'sources',
    header: 'Sources',
    value: (f) => f.sources.map(sourceWords).join('; '),
    render: (f) => (
      <Stack gap={0}>
        <Text size="sm">
          {f.sources.filter((s) => s.used).length} of {f.sources.length} used ({f.method})
        </Text>
        {f.sources.map((s) => (
          <Text key={s.name} size="xs">
            {sourceWords(s)}
          </Text>
        ))}
      </Stack>
    ),
    sortable: false,
  },
  {
    key: 'published',
    header: 'Published',
    value: (f) => f.publishedAt,
    render: (f) => formatDateTime(f.publishedAt),
  },
  {
    key: 'superseded',
    header: 'Superseded',
    value: (f) => f.supersededBy ?? '',
    render: (f) => (f.supersededBy ? 'by a correction' : '—'),
  },
];

/** The supervisor publishes today's fixing of a currency (or a given date's) from the sources. */
function PublishFixingForm() {
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: ['fixing-settings'],
    queryFn: async () => unwrap(await api.GET('/v1/rates/fixing-settings')),
  });
  const [quote, setQuote] = useState<string | null>(null);
  const [date, setDate] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const publish = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/rates/fixings', {
          body: { quote: quote ?? '', ...(date ? { date } : {}) },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['fixing'] }),
  });
  const currencies = settings.data?.currencies ?? [];
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Publish a fixing
      </Title>
      <Text size="sm" mb="sm">
        {settings.data
          ? `The median of ${settings.data.sources.join(', ') || 'no source'} after rejecting outliers beyond ${settings.data.maxDeviationBps} basis points; at least ${settings.data.minSources} usable source(s). Daily cut-off ${settings.data.cutoffTime} UTC.`
          : 'Reading the fixing rule…'}
      </Text>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          publish.reset();
          if (!quote) {
            setProblem('pick the currency');
            return;
          }
          setProblem(undefined);
          publish.mutate();
        }}
      >
        <Group align="flex-end">
          <Select
            label="Currency"
            placeholder={currencies.length ? 'Pick a currency' : 'No currency in the rule'}
            data={currencies}
            value={quote}
            onChange={setQuote}
            error={problem ?? fieldErrorOf(publish.error, 'quote')}
          />
          <TextInput
            type="date"
            label="Date"
            description="Today (UTC) when empty"
            value={date}
            onChange={(e) => setDate(e.currentTarget.value)}
            error={fieldErrorOf(publish.error, 'date')}
          />
          <Button type="submit" loading={publish.isPending}>
            Publish
          </Button>
        </Group>
      </form>
      <FormError error={publish.error} />
      {publish.data && (
        <Text mt="sm" data-testid="fixing-published">
          Published {publish.data.quote} for {publish.data.date}:{' '}
          {ratePerBtc(publish.data.rate, publish.data.quote)}.
        </Text>
      )}
    </Paper>
  );
}

/** A correction (supervisor): a new version taken from the sources again, with the reason. */
function CorrectFixing({ fixing, onClose }: { fixing: Fixing; onClose: () => void }) {
  const queryClient = useQueryClient();
  const correct = useMutation({
    mutationFn: async (reason: string) =>
      unwrap(
        await api.POST('/v1/rates/fixings/{id}/corrections', {
          params: { path: { id: fixing.id } },
          body: { reason },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['fixing'] }),
  });
  return (
    <ReasonForm
      title={`Correct the ${fixing.quote} fixing of ${fixing.date} (version ${fixing.version})`}
      action="Correct the fixing"
      minLength={10}
      pending={correct.isPending}
      error={correct.error}
      onSubmit={(reason) => correct.mutate(reason)}
      onCancel={onClose}
      answer={
        correct.data && (
          <Text mt="sm" data-testid="fixing-corrected">
            Version {correct.data.version}: {ratePerBtc(correct.data.rate, correct.data.quote)}.
          </Text>
        )
      }
    />
  );
}

/** The reference rate's fixings, every version, newest first; the supervisor publishes. */
export function FixingsPage() {
  const user = useUser();
  const [correcting, setCorrecting] = useState<Fixing | null>(null);
  const columns: Column<Fixing>[] =
    user.role === 'supervisor'
      ? [
          ...COLUMNS,
          {
            key: 'correct',
            header: 'Correction',
            value: () => '',
            sortable: false,
            render: (f) =>
              f.supersededBy ? null : (
                <Button
                  size="compact-sm"
                  variant="light"
                  onClick={() => setCorrecting(f)}
                  aria-label={`Correct the ${f.quote} fixing of ${f.date}`}
                >
                  Correct
                </Button>
              ),
          },
        ]
      : COLUMNS;
  const fixings = usePagedList(['fixing', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/rates/fixings', { params: { query: { cursor } } })),
  );
  return (
    <Page
      title="Reference rate fixings"
      description="The scheme's reference rate of bitcoin against each currency, fixed daily from the configured sources (their values kept beside). Deals, netting and reports say which fixing they used. Newest first, a page at a time."
    >
      {user.role === 'supervisor' && <PublishFixingForm />}
      {correcting && (
        <CorrectFixing
          key={correcting.id}
          fixing={correcting}
          onClose={() => setCorrecting(null)}
        />
      )}
      <DataTable
        caption="Fixings"
        columns={columns}
        rows={fixings.rows}
        rowKey={(f) => f.id}
        loading={fixings.isPending}
        error={fixings.error}
        onRetry={fixings.refetch}
        empty="No fixing published yet."
        csvName="fixings"
      />
      <LoadMore list={fixings} />
    </Page>
  );
}
