import { useMemo, useState } from 'react';
import {
  Badge,
  Button,
  Code,
  Group,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Text,
  Textarea,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { FocusMissing, useFocusedRow } from '../../api/focus';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { OUTCOME_COLOR, OutcomeBadge, TransferLink, useNames, type Decision } from './shared';

/** Stopped transfers first: blocked, then held for review, then allowed. */
const OUTCOME_RANK: Record<string, number> = { block: 0, review: 1, allow: 2 };

const VIEWS = [
  { value: 'attention', label: 'Blocked and held' },
  { value: 'block', label: 'Blocked' },
  { value: 'review', label: 'Held' },
  { value: 'allow', label: 'Allowed' },
  { value: 'all', label: 'All' },
] as const;
type View = (typeof VIEWS)[number]['value'];

function ReviewForm({ decision, onDone }: { decision: Decision; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<'allow' | 'block'>('block');
  const [note, setNote] = useState('');
  const review = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/decisions/{id}/review', {
          params: { path: { id: decision.id } },
          body: { outcome, note },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['decision'] });
      onDone();
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        review.mutate();
      }}
      noValidate
    >
      <Stack gap="sm">
        <SegmentedControl
          aria-label="Review outcome"
          data={[
            { value: 'allow', label: 'Allow' },
            { value: 'block', label: 'Block' },
          ]}
          value={outcome}
          onChange={(v) => setOutcome(v)}
        />
        <Textarea
          label="Reason"
          description="At least 10 characters; recorded with the decision"
          value={note}
          onChange={(e) => setNote(e.currentTarget.value)}
          error={fieldErrorOf(review.error, 'note')}
        />
        <FormError error={review.error} />
        <Group justify="flex-end">
          <Button type="submit" loading={review.isPending}>
            Record review
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function DecisionsPage() {
  const user = useUser();
  const [view, setView] = useState<View>('attention');
  const [chosen, setChosen] = useState<Decision | null>(null);
  const query =
    view === 'attention' ? { attention: 'true' as const } : view === 'all' ? {} : { outcome: view };
  const decisions = usePagedList(['decision', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/decisions', { params: { query: { ...query, cursor } } })),
  );
  const nameOf = useNames((decisions.rows ?? []).flatMap((d) => [d.companyId, d.counterpartyId]));
  // `?id=` (the supervisor's home: a gate refusal) opens that decision, until it is closed.
  const focus = useFocusedRow(decisions, (d) => d.id);
  const [closedKey, setClosedKey] = useState<string | null>(null);
  const linked = focus.row && focus.key !== closedKey ? focus.row : null;
  const selected = chosen ?? linked;
  const setSelected = (decision: Decision | null) => {
    setChosen(decision);
    if (!decision) setClosedKey(focus.key);
  };
  // Blocked before held before allowed, newest first within each (the loaded rows).
  const rows = useMemo(
    () =>
      decisions.rows
        ? [...decisions.rows].sort(
            (a, b) =>
              (OUTCOME_RANK[a.finalOutcome ?? a.outcome] ?? 3) -
                (OUTCOME_RANK[b.finalOutcome ?? b.outcome] ?? 3) ||
              b.decidedAt.localeCompare(a.decidedAt),
          )
        : undefined,
    [decisions.rows],
  );
  const columns: Column<Decision>[] = [
    {
      key: 'outcome',
      header: 'Outcome',
      value: (d) => String(OUTCOME_RANK[d.finalOutcome ?? d.outcome] ?? 3),
      render: (d) => (
        <Group gap={4} wrap="nowrap">
          <OutcomeBadge outcome={d.outcome} />
          {d.finalOutcome && d.finalOutcome !== d.outcome && (
            <Text size="xs">→ {d.finalOutcome === 'allow' ? 'allowed' : 'blocked'}</Text>
          )}
        </Group>
      ),
    },
    {
      key: 'decided',
      header: 'Decided',
      value: (d) => d.decidedAt,
      render: (d) => formatDateTime(d.decidedAt),
    },
    {
      key: 'transfer',
      header: 'Transfer',
      value: (d) => d.transferId,
      render: (d) => (
        <span onClick={(e) => e.stopPropagation()}>
          <TransferLink id={d.transferId} />
        </span>
      ),
    },
    { key: 'company', header: 'Company', value: (d) => nameOf(d.companyId) },
    { key: 'counterparty', header: 'Counterparty', value: (d) => nameOf(d.counterpartyId) },
    {
      key: 'reasons',
      header: 'Reasons',
      value: (d) =>
        d.reasons
          .filter((r) => r.outcome !== 'allow')
          .map((r) => r.message)
          .join('; ') || d.reference,
    },
  ];
  return (
    <Page
      title="Policy decisions"
      description="Every transfer's gate decision with its reasons, rule versions and list snapshots. Blocked and held transfers first; outcome filtered by the server, newest first a page at a time."
    >
      <FocusMissing show={focus.missing} what="decision" />
      <DataTable
        caption="Decisions"
        columns={columns}
        rows={rows}
        rowKey={(d) => d.id}
        loading={decisions.isPending}
        error={decisions.error}
        onRetry={decisions.refetch}
        empty={view === 'attention' ? 'No blocked or held transfers.' : 'No decisions.'}
        csvName="decisions"
        onRowClick={setSelected}
        focusKey={focus.key}
        toolbar={
          <Select
            aria-label="Outcome"
            data={VIEWS.map((v) => ({ value: v.value, label: v.label }))}
            value={view}
            onChange={(v) => setView(v ?? 'attention')}
            allowDeselect={false}
            w={190}
          />
        }
      />
      <LoadMore list={decisions} />
      <Modal
        opened={selected !== null}
        onClose={() => setSelected(null)}
        title="Decision"
        size="lg"
      >
        {selected && (
          <Stack gap="sm">
            {selected.reasons.map((r, i) => (
              <Text size="sm" key={i}>
                <Badge variant="light" color={OUTCOME_COLOR[r.outcome] ?? 'gray'}>
                  {r.outcome}
                </Badge>{' '}
                {r.rule} ({r.code}): {r.message}
              </Text>
            ))}
            <Text size="sm">
              Rules: {selected.ruleVersions.join(', ') || '—'}; lists:{' '}
              {selected.listSnapshotIds.join(', ') || '—'}; score {selected.monitoringScore}
            </Text>
            {selected.reviewedBy && (
              <Text size="sm">
                Reviewed by <Code>{selected.reviewedBy}</Code>: {selected.reviewNote}
              </Text>
            )}
            {user.role === 'supervisor' &&
              selected.outcome === 'review' &&
              !selected.finalOutcome && (
                <ReviewForm decision={selected} onDone={() => setSelected(null)} />
              )}
          </Stack>
        )}
      </Modal>
    </Page>
  );
}
