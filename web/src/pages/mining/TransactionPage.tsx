import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { Anchor, Badge, Grid, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { Page } from '../../components/Page';
import { ErrorState, Loading } from '../../components/States';
import { formatBtc, formatDateTime } from '../../format';
import { percentOf } from './ProvenancePage';
import { LotChip, outputPath, regionLabel, shortHash, TxLink, type Origin } from './shared';

type Transaction = components['schemas']['ProvenanceTransaction'];
type Shares = Transaction['outputs'][number]['provenance'];

/** The origins a coin carried: miner, site and region by name, the sats, the coinbase's lot. */
function OriginList({
  shares,
  origins,
  of,
}: {
  shares: Shares;
  origins: ReadonlyMap<string, Origin>;
  of: string;
}) {
  if (shares.length === 0) return null;
  return (
    <Stack gap={4} mt={6}>
      {shares.map((share) => {
        const origin = origins.get(share.originId);
        return (
          <Group key={share.originId} gap={6} wrap="wrap" data-origin={share.originId}>
            <Text size="xs" fw={500} title={origin?.minerId}>
              {origin?.minerName ?? origin?.minerId ?? share.originId}
            </Text>
            {origin && (
              <Text size="xs" c="dimmed">
                {origin.siteName ?? origin.siteId} ·{' '}
                {regionLabel(origin.regionCode, origin.regionName)} · block {origin.height}
              </Text>
            )}
            <Text size="xs">
              {formatBtc(share.sats)} ({percentOf(share.sats, of)})
            </Text>
            <LotChip lot={origin?.lot} />
          </Group>
        );
      })}
    </Stack>
  );
}

function Row({ children, testId }: { children: ReactNode; testId: string }) {
  return (
    <Paper withBorder p="sm" data-testid={testId}>
      {children}
    </Paper>
  );
}

/**
 * A transaction as on a block explorer, seen through provenance: its inputs with the outputs they
 * spent (and the mined origins those carried), its outputs with their values and the share of
 * mined coins each received; every transaction and output links on.
 */
export function TransactionPage() {
  const { txid = '' } = useParams();
  const tx = useQuery({
    queryKey: ['provenanceTransaction', txid],
    queryFn: async () =>
      unwrap(await api.GET('/v1/mining/transactions/{txid}', { params: { path: { txid } } })),
  });
  const data = tx.data;
  const origins = new Map((data?.origins ?? []).map((o) => [o.attributionId, o]));
  return (
    <Page
      title="Transaction"
      description={`${shortHash(txid)}: its inputs and outputs as the provenance of mined coins records them.`}
    >
      {tx.error ? (
        <ErrorState error={tx.error} onRetry={() => void tx.refetch()} />
      ) : !data ? (
        <Loading label="Reading the transaction…" />
      ) : (
        <Stack gap="md">
          <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
            {data.txid}
          </Text>
          <Group gap="sm">
            {data.coinbase && <Badge color="yellow">coinbase</Badge>}
            <Text size="sm">
              Block {data.height.toLocaleString()}
              {data.blockTime ? `, ${formatDateTime(data.blockTime)}` : ''}
            </Text>
            <Text size="sm" ff="monospace" title={data.blockHash}>
              {shortHash(data.blockHash)}
            </Text>
          </Group>
          <Grid>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Title order={2} size="h4" mb="xs">
                Inputs ({data.coinbase ? 'new coins' : data.inputs.length})
              </Title>
              <Stack gap="xs">
                {data.coinbase && (
                  <Row testId="tx-input">
                    <Text size="sm">Coinbase: the block's subsidy and fees, newly mined.</Text>
                  </Row>
                )}
                {data.inputs.map((input) => (
                  <Row key={input.index} testId="tx-input">
                    <Group justify="space-between" wrap="wrap" gap="xs">
                      <Group gap={6}>
                        <Text size="sm">#{input.index}</Text>
                        {input.traced ? (
                          <TxLink
                            txid={input.prevTxid}
                            label={`${shortHash(input.prevTxid)}:${input.prevVout}`}
                          />
                        ) : (
                          <Text size="sm" ff="monospace" title={input.prevTxid}>
                            {shortHash(input.prevTxid)}:{input.prevVout}
                          </Text>
                        )}
                        {input.coinbase && (
                          <Badge color="yellow" variant="light">
                            coinbase
                          </Badge>
                        )}
                        {!input.traced && (
                          <Badge color="gray" variant="light">
                            no mined coins
                          </Badge>
                        )}
                      </Group>
                      <Text size="sm" fw={600}>
                        {formatBtc(input.valueSats)}
                      </Text>
                    </Group>
                    <OriginList shares={input.provenance} origins={origins} of={input.valueSats} />
                  </Row>
                ))}
              </Stack>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Title order={2} size="h4" mb="xs">
                Outputs carrying mined coins ({data.outputs.length})
              </Title>
              <Stack gap="xs">
                {data.outputs.map((output) => (
                  <Row key={output.vout} testId="tx-output">
                    <Group justify="space-between" wrap="wrap" gap="xs">
                      <Group gap={6}>
                        <Text size="sm">#{output.vout}</Text>
                        <Anchor
                          component={Link}
                          to={outputPath(data.txid, output.vout)}
                          size="sm"
                          aria-label={`Provenance graph of output ${output.vout}`}
                        >
                          provenance
                        </Anchor>
                        {output.spentByTxid ? (
                          <Group gap={4}>
                            <Text size="xs" c="dimmed">
                              spent by
                            </Text>
                            <TxLink txid={output.spentByTxid} />
                          </Group>
                        ) : (
                          <Badge color="teal" variant="light">
                            unspent
                          </Badge>
                        )}
                      </Group>
                      <Text size="sm" fw={600}>
                        {formatBtc(output.valueSats)}
                      </Text>
                    </Group>
                    <Text size="xs" mt={4}>
                      Mined in the scheme: {formatBtc(output.taggedSats)} (
                      {percentOf(output.taggedSats, output.valueSats)})
                    </Text>
                    <OriginList
                      shares={output.provenance}
                      origins={origins}
                      of={output.valueSats}
                    />
                  </Row>
                ))}
              </Stack>
              <Text size="xs" c="dimmed" mt="xs">
                Outputs that received no mined coins are not recorded by the tracer.
              </Text>
            </Grid.Col>
          </Grid>
        </Stack>
      )}
    </Page>
  );
}
