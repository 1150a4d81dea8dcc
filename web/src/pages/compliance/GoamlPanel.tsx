import { Alert, Button, Code, Collapse, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorState, Loading } from '../../components/States';
import { formatBtc, formatDateTime } from '../../format';
import { formatAmount, TransferLink } from './shared';

/**
 * The goAML suspicious transaction report as it would be filed now: who reports, why, the
 * transactions with both parties and their countries, what still stops filing, and the XML.
 */
export function GoamlPreview({ caseId, filed }: { caseId: string; filed: boolean }) {
  const [xmlShown, xml] = useDisclosure(false);
  const preview = useQuery({
    queryKey: ['case', caseId, 'goaml'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/cases/{id}/goaml/preview', { params: { path: { id: caseId } } })),
  });
  if (preview.isPending) return <Loading label="Building the goAML report…" />;
  if (preview.error) return <ErrorState error={preview.error} />;
  const p = preview.data;
  return (
    <Stack gap="sm" aria-label="goAML report preview">
      {filed ? (
        <Alert color="teal" title="Filed" role="status">
          <Text size="sm">The case was closed as reported; the report below is the one filed.</Text>
        </Alert>
      ) : p.problems.length ? (
        <Alert color="yellow" title="This report cannot be filed yet" role="status">
          <Stack gap={4}>
            {p.problems.map((problem) => (
              <Text size="sm" key={problem}>
                {problem}
              </Text>
            ))}
          </Stack>
        </Alert>
      ) : (
        <Alert color="teal" title="Ready to file" role="status">
          <Text size="sm">Every value the FIU needs is present.</Text>
        </Alert>
      )}
      <Text size="sm">
        Suspicious transaction report (STR) by reporting entity{' '}
        <strong>{p.reportingEntityId ?? 'not configured'}</strong>
        {p.schemeCountry ? ` in ${p.schemeCountry}` : ''}, amounts in {p.currency}.
      </Text>
      <Text size="sm">
        <strong>Reason:</strong> {p.reason}
      </Text>
      <Text size="sm">
        <strong>Action taken:</strong> {p.action}
      </Text>
      <Text size="sm">
        <strong>Indicators:</strong> {p.indicators.join(', ') || '—'}
      </Text>
      <Title order={4} size="h6">
        Transactions ({p.transactions.length})
      </Title>
      {p.transactions.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table>
            <Table.Caption>Transactions in the report</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Transfer</Table.Th>
                <Table.Th>Date</Table.Th>
                <Table.Th>From</Table.Th>
                <Table.Th>To</Table.Th>
                <Table.Th style={{ textAlign: 'right' }}>Amount</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {p.transactions.map((t) => {
                const [from, to] =
                  t.direction === 'outbound'
                    ? [t.company, t.counterparty]
                    : [t.counterparty, t.company];
                return (
                  <Table.Tr key={t.transferId}>
                    <Table.Td>
                      <TransferLink id={t.transferId} />
                    </Table.Td>
                    <Table.Td>{formatDateTime(t.occurredAt)}</Table.Td>
                    <Table.Td>
                      {from.legalName} ({from.country})
                    </Table.Td>
                    <Table.Td>
                      {to.legalName} ({to.country})
                    </Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>
                      {formatAmount(t.amount)}
                      <Text size="xs">{formatBtc(t.amountSats)}</Text>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Group>
        <Button variant="default" size="xs" onClick={xml.toggle} aria-expanded={xmlShown}>
          {xmlShown ? 'Hide the XML' : 'Show the XML'}
        </Button>
      </Group>
      <Collapse expanded={xmlShown}>
        <Code
          block
          style={{ maxHeight: 360, overflow: 'auto' }}
          aria-label="goAML XML"
          // Scrollable: reachable by keyboard (WCAG 2.1.1).
          tabIndex={0}
        >
          {p.xml}
        </Code>
      </Collapse>
    </Stack>
  );
}
