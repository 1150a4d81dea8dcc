import { useState } from 'react';
import { Alert, Button, Code, Group, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { DataTable, type Column } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { StatusChip, statusWords } from '../../components/StatusChip';
import { formatBtc } from '../../format';
import { useUser } from '../../session';
import { dealColumns, dealParties, type Deal } from './DealsPage';
import { ReasonForm, shortId, useNames } from './shared';

type Decision = 'release' | 'refund';

const DECISIONS: Record<Decision, { title: string; action: string }> = {
  release: {
    title: 'Release: the checks run again and, only if they pass, the coins are delivered',
    action: 'Release the deal',
  },
  refund: {
    title: "Refund: the escrowed coins go back to the miner's address, the fiat leg is returned",
    action: 'Refund the deal',
  },
};

/**
 * What the API answered for a decision: the deal as it now stands. A status the page does not
 * know (a decision recorded but waiting for another supervisor's approval, say) is shown as the
 * API words it, never taken for done.
 */
function Answer({ deal, decision }: { deal: Deal; decision: Decision }) {
  const done =
    decision === 'release'
      ? ['delivering', 'delivered', 'settled'].includes(deal.status)
      : deal.status === 'refunded';
  return (
    <Alert
      mt="sm"
      color={done ? 'green' : 'yellow'}
      title={
        done
          ? `${shortId('Deal', deal.id)} is now ${statusWords(deal.status)}`
          : deal.pendingDecision?.action === decision
            ? `${shortId('Deal', deal.id)}: the ${decision} is proposed; another supervisor (a different person) must approve it`
            : `${shortId('Deal', deal.id)} is ${statusWords(deal.status)}: the ${decision} is not complete`
      }
      data-testid="decision-answer"
      data-status={deal.status}
      data-pending={deal.pendingDecision?.action ?? ''}
    >
      <Stack gap={4}>
        <Group gap="xs">
          <Text size="sm">Status:</Text>
          <StatusChip status={deal.status} />
        </Group>
        {deal.deliveryTxid && (
          <Text size="sm">
            Delivery <Code>{deal.deliveryTxid}</Code>
            {deal.deliveredSats ? ` (${formatBtc(deal.deliveredSats)} delivered)` : ''}
          </Text>
        )}
        {deal.refundTxid && (
          <Text size="sm">
            Coins returned to <Code>{deal.refundAddress}</Code> in <Code>{deal.refundTxid}</Code>
          </Text>
        )}
        {deal.fiatReturnReference && (
          <Text size="sm">Fiat leg returned, bank reference {deal.fiatReturnReference}</Text>
        )}
      </Stack>
    </Alert>
  );
}

function DecisionPanel({
  deal,
  decision,
  onClose,
}: {
  deal: Deal;
  decision: Decision;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const decide = useMutation({
    mutationFn: async (reason: string) => {
      const options = { params: { path: { id: deal.id } }, body: { reason } };
      return unwrap(
        decision === 'release'
          ? await api.POST('/v1/market/deals/{id}/release', options)
          : await api.POST('/v1/market/deals/{id}/refund', options),
      );
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['market', 'deals'] }),
  });
  return (
    <ReasonForm
      title={`${DECISIONS[decision].title} (${shortId('deal', deal.id)})`}
      action={DECISIONS[decision].action}
      minLength={3}
      pending={decide.isPending}
      error={decide.error}
      onSubmit={(reason) => decide.mutate(reason)}
      onCancel={onClose}
      answer={decide.data && <Answer deal={decide.data} decision={decision} />}
    />
  );
}

/**
 * The supervisor's queue of held deals: a deal is held when its coin leg failed its checks at
 * the confirmation of the fiat leg, or the network refused its delivery for good. The supervisor
 * releases it (only if the checks pass again) or refunds both legs; auditors read the queue.
 */
export function HeldDealsPage() {
  const user = useUser();
  const [open, setOpen] = useState<{ deal: Deal; decision: Decision } | null>(null);
  const held = usePagedList(['market', 'deals', 'held'], async (cursor) =>
    unwrap(await api.GET('/v1/market/deals', { params: { query: { status: 'held', cursor } } })),
  );
  const names = useNames(dealParties(held.rows));
  const columns: Column<Deal>[] = dealColumns(names).filter((c) => c.key !== 'deadline');
  if (user.role === 'supervisor')
    columns.push({
      key: 'decide',
      header: 'Decision',
      value: () => '',
      sortable: false,
      render: (d) => (
        <Group gap="xs" wrap="nowrap">
          <Button
            size="compact-sm"
            onClick={() => setOpen({ deal: d, decision: 'release' })}
            aria-label={`Release ${shortId('deal', d.id)}`}
          >
            Release
          </Button>
          <Button
            size="compact-sm"
            variant="light"
            color="red"
            onClick={() => setOpen({ deal: d, decision: 'refund' })}
            aria-label={`Refund ${shortId('deal', d.id)}`}
          >
            Refund
          </Button>
        </Group>
      ),
    });
  return (
    <Page
      title="Held deals"
      description="Deals whose fiat leg was confirmed but whose coins were not delivered: the coin leg failed its checks at the confirmation, or the network refused the delivery. Each waits for the supervisor's decision, with a reason kept in the audit log."
    >
      {open && (
        <DecisionPanel
          key={`${open.deal.id}:${open.decision}`}
          deal={open.deal}
          decision={open.decision}
          onClose={() => setOpen(null)}
        />
      )}
      <DataTable
        caption="Held deals"
        columns={columns}
        rows={held.rows}
        rowKey={(d) => d.id}
        loading={held.isPending}
        error={held.error}
        onRetry={held.refetch}
        empty="No deal is held."
        csvName="held-deals"
      />
      <LoadMore list={held} />
    </Page>
  );
}
