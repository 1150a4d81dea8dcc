import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { Anchor, Button, Code, Paper, SimpleGrid, Table, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { Page } from '../../components/Page';
import { StatusChip } from '../../components/StatusChip';
import { Loading } from '../../components/States';
import { formatBtc, formatDateTime } from '../../format';
import { useUser } from '../../session';
import { Fact, NotAvailableDetail } from '../trade/shared';
import { ReasonForm, useNames } from './shared';

const QUARANTINE_WORDS: Record<string, string> = {
  MINED_IN_BAN: 'mined inside a ban of its region',
  SITE_NOT_REGISTERED: 'mined at a site not registered at the time',
};

/** Releasing a quarantined lot (supervisor): the reason, then the lot as the API returns it. */
function ReleaseLot({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const release = useMutation({
    mutationFn: async (reason: string) =>
      unwrap(
        await api.POST('/v1/clearing/lots/{id}/release', {
          params: { path: { id } },
          body: { reason },
        }),
      ),
    onSuccess: (lot) => {
      queryClient.setQueryData(['clearing', 'lot', id], lot);
      void queryClient.invalidateQueries({ queryKey: ['clearing', 'lots'] });
      setOpen(false);
    },
  });
  if (!open)
    return (
      <Button variant="light" onClick={() => setOpen(true)}>
        Release this lot
      </Button>
    );
  return (
    <ReasonForm
      title="Release the quarantined lot"
      action="Release"
      minLength={10}
      pending={release.isPending}
      error={release.error}
      onSubmit={(reason) => release.mutate(reason)}
      onCancel={() => setOpen(false)}
    />
  );
}

/** One lot: its origin (miner, site, region, block) and its clearance, with the release. */
export function LotDetailPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const lot = useQuery({
    queryKey: ['clearing', 'lot', id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/clearing/lots/{id}', { params: { path: { id } } })),
  });
  const names = useNames([lot.data?.minerId]);
  if (lot.isPending) return <Loading label="Loading the lot…" />;
  if (lot.error)
    return (
      <NotAvailableDetail
        what="Lot"
        error={lot.error}
        onRetry={() => void lot.refetch()}
        back={
          <Anchor component={Link} to="/clearing/lots">
            Back to the lots
          </Anchor>
        }
      />
    );
  const l = lot.data;
  return (
    <Page
      title={`Lot ${l.id}`}
      description={`Mined at block ${l.height} in region ${l.regionCode}.`}
    >
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md">
          <Table aria-label="The lot">
            <Table.Tbody>
              <Fact label="Status">
                <StatusChip status={l.status} />
              </Fact>
              <Fact label="Clearance">
                <StatusChip status={l.clearance} />
              </Fact>
              <Fact label="Amount">
                <Text fw={700} data-testid="lot-amount">
                  {formatBtc(l.valueSats)}
                </Text>
              </Fact>
              <Fact label="Miner">{names[l.minerId] ?? l.minerId}</Fact>
              <Fact label="Site">
                <Code>{l.siteId}</Code>
              </Fact>
              <Fact label="Region">{l.regionCode}</Fact>
              <Fact label="Block">
                {l.height} · {formatDateTime(l.blockTime)}
              </Fact>
              <Fact label="Coinbase output">
                <Code style={{ wordBreak: 'break-all' }}>{`${l.txid}:${l.vout}`}</Code>
              </Fact>
              {l.spentByTxid && (
                <Fact label="Spent by">
                  <Code style={{ wordBreak: 'break-all' }}>{l.spentByTxid}</Code>
                </Fact>
              )}
            </Table.Tbody>
          </Table>
        </Paper>
        <Paper withBorder p="md">
          <Table aria-label="Quarantine and release">
            <Table.Tbody>
              <Fact label="Quarantined for">
                {l.quarantineReason
                  ? (QUARANTINE_WORDS[l.quarantineReason] ?? l.quarantineReason)
                  : 'not quarantined'}
              </Fact>
              {l.banId && (
                <Fact label="Ban">
                  <Code>{l.banId}</Code>
                </Fact>
              )}
              {l.releasedAt && (
                <>
                  <Fact label="Released">{formatDateTime(l.releasedAt)}</Fact>
                  <Fact label="Released by">{l.releasedBy ?? '—'}</Fact>
                  <Fact label="Reason">
                    <span data-testid="release-reason">{l.releaseReason}</span>
                  </Fact>
                </>
              )}
            </Table.Tbody>
          </Table>
        </Paper>
      </SimpleGrid>
      {user.role === 'supervisor' && l.status === 'quarantined' && <ReleaseLot id={l.id} />}
      <Anchor component={Link} to="/clearing/lots">
        Back to the lots
      </Anchor>
    </Page>
  );
}
