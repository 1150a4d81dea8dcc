import { useParams } from 'react-router';
import { Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { DataTable } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { ProvenanceGraph } from '../../components/ProvenanceGraph';
import { ErrorState, Loading } from '../../components/States';
import { formatBtc } from '../../format';
import { LotChip, regionLabel, shortHash, TxLink, type Origin } from './shared';

/** `sats` as a share of `of`, in per cent with two decimals (exact integers until the end). */
export function percentOf(sats: string, of: string): string {
  const whole = BigInt(of);
  if (whole === 0n) return '0.00 %';
  const basis = (BigInt(sats) * 10_000n) / whole;
  return `${basis / 100n}.${String(basis % 100n).padStart(2, '0')} %`;
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <Paper withBorder p="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600}>{value}</Text>
    </Paper>
  );
}

/**
 * The provenance of an output: how much of it was mined in the scheme, by whom, and its path back
 * to the coinbases drawn as a graph; each box opens its transaction.
 */
export function ProvenancePage() {
  const { outpoint = '' } = useParams();
  const report = useQuery({
    queryKey: ['provenance', outpoint],
    queryFn: async () =>
      unwrap(await api.GET('/v1/provenance/{outpoint}', { params: { path: { outpoint } } })),
  });
  const [txid = '', vout = ''] = outpoint.split(':');
  const data = report.data;
  const origins = new Map((data?.provenance ?? []).map((p) => [p.origin.txid, p.origin]));
  return (
    <Page
      title="Provenance of an output"
      description={`Output ${vout} of transaction ${shortHash(txid)}: where its mined coins came from, by the haircut rule. Click a box for its transaction.`}
    >
      {report.error ? (
        <ErrorState error={report.error} onRetry={() => void report.refetch()} />
      ) : !data ? (
        <Loading label="Tracing the output…" />
      ) : (
        <Stack gap="lg">
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
            <Figure label="Value" value={formatBtc(data.valueSats)} />
            <Figure label="Mined in the scheme" value={formatBtc(data.taggedSats)} />
            <Figure
              label="Share mined in the scheme"
              value={percentOf(data.taggedSats, data.valueSats)}
            />
            <Figure label="Coinbases behind it" value={String(data.provenance.length)} />
          </SimpleGrid>
          <Group gap="xs">
            <Text size="sm">Created by</Text>
            <TxLink txid={data.txid} />
            <Text size="sm">in block {data.height.toLocaleString()}</Text>
          </Group>
          <div>
            <Title order={2} size="h4" mb="xs">
              Path back to the coinbases
            </Title>
            <ProvenanceGraph
              path={data.path}
              label={`Graph of the path of output ${vout} of ${shortHash(txid)} back to ${data.provenance.length} coinbase outputs`}
              notes={(node) => {
                const origin = node.coinbase ? origins.get(node.txid) : undefined;
                if (!origin) return null;
                return {
                  text: origin.minerName ?? origin.minerId,
                  ...(origin.lot ? { lot: origin.lot.status } : {}),
                };
              }}
            />
          </div>
          <div>
            <Title order={2} size="h4" mb="xs">
              Origins
            </Title>
            <DataTable
              caption="Coinbase outputs this output's mined coins came from"
              rows={data.provenance}
              rowKey={(p) => p.origin.attributionId}
              csvName="provenance-origins"
              columns={originColumns(data.valueSats)}
            />
          </div>
        </Stack>
      )}
    </Page>
  );
}

function originColumns(valueSats: string) {
  type Row = { origin: Origin; sats: string };
  return [
    {
      key: 'miner',
      header: 'Miner',
      value: (p: Row) => p.origin.minerName ?? p.origin.minerId,
      render: (p: Row) => (
        <span title={p.origin.minerId}>{p.origin.minerName ?? p.origin.minerId}</span>
      ),
    },
    {
      key: 'site',
      header: 'Site',
      value: (p: Row) => p.origin.siteName ?? p.origin.siteId,
    },
    {
      key: 'region',
      header: 'Region',
      value: (p: Row) => regionLabel(p.origin.regionCode, p.origin.regionName),
    },
    {
      key: 'coinbase',
      header: 'Coinbase',
      value: (p: Row) => String(p.origin.height),
      render: (p: Row) => <TxLink txid={p.origin.txid} label={`block ${p.origin.height}`} />,
    },
    {
      key: 'sats',
      header: 'Carried',
      value: (p: Row) => p.sats,
      render: (p: Row) => `${formatBtc(p.sats)} (${percentOf(p.sats, valueSats)})`,
      align: 'right' as const,
    },
    {
      key: 'lot',
      header: 'Lot',
      value: (p: Row) => p.origin.lot?.status ?? '',
      render: (p: Row) => (p.origin.lot ? <LotChip lot={p.origin.lot} /> : '—'),
    },
  ];
}
