import { useState } from 'react';
import {
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { countryName } from '../../components/countries';
import { CountryPicker } from '../../components/CountryPicker';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';

type Jurisdiction = components['schemas']['Jurisdiction'];
type RiskLevel = Jurisdiction['riskLevel'];

const RISK_LEVELS: readonly { value: RiskLevel; label: string }[] = [
  { value: 'low', label: 'Low' },
  { value: 'medium', label: 'Medium' },
  { value: 'high', label: 'High' },
];
const RISK_COLOR: Record<RiskLevel, string> = { low: 'teal', medium: 'yellow', high: 'red' };

/** The supervisor sets a foreign country's risk level, and whether settlement with it is refused. */
function SetJurisdictionForm() {
  const queryClient = useQueryClient();
  const [country, setCountry] = useState('');
  const [riskLevel, setRiskLevel] = useState<RiskLevel>('high');
  const [refused, setRefused] = useState(false);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/v1/jurisdictions/{country}', {
          params: { path: { country } },
          body: { riskLevel, refused, reason: reason.trim() || null },
        }),
      ),
    onSuccess: () => {
      setCountry('');
      setReason('');
      setRefused(false);
      void queryClient.invalidateQueries({ queryKey: ['jurisdiction'] });
    },
  });
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Set a jurisdiction
      </Title>
      <form
        aria-label="Set a jurisdiction"
        onSubmit={(e) => {
          e.preventDefault();
          save.reset();
          setProblem(country ? undefined : 'pick the country');
          if (country) save.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <CountryPicker
              label="Country"
              value={country}
              onChange={setCountry}
              error={problem ?? fieldErrorOf(save.error, 'country')}
            />
            <Select
              label="Risk level"
              data={RISK_LEVELS.map((r) => ({ ...r }))}
              value={riskLevel}
              onChange={(v) => v && setRiskLevel(v)}
              allowDeselect={false}
              error={fieldErrorOf(save.error, 'riskLevel')}
            />
            <TextInput
              label="Reason"
              description="Optional, e.g. FATF call for action"
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
              error={fieldErrorOf(save.error, 'reason')}
            />
          </SimpleGrid>
          <Checkbox
            label="Refuse settlement with parties in this country"
            description="The compliance gate blocks every later transfer with a party there."
            checked={refused}
            onChange={(e) => setRefused(e.currentTarget.checked)}
          />
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save jurisdiction
            </Button>
          </Group>
        </Stack>
      </form>
      <FormError error={save.error} />
      {save.data && (
        <Text mt="sm" role="status" data-testid="jurisdiction-saved">
          Saved: {countryName(save.data.country)}, {save.data.riskLevel} risk
          {save.data.refused ? ', settlement refused' : ''}.
        </Text>
      )}
    </Paper>
  );
}

/** Foreign jurisdictions: their risk level and whether settlement is refused (supervisor sets). */
export function JurisdictionsPage() {
  const user = useUser();
  const scheme = useQuery({
    queryKey: ['jurisdiction', 'scheme'],
    queryFn: async () => unwrap(await api.GET('/v1/jurisdictions/scheme')),
  });
  const list = usePagedList(['jurisdiction', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/jurisdictions', { params: { query: { cursor } } })),
  );
  const columns: Column<Jurisdiction>[] = [
    {
      key: 'country',
      header: 'Country',
      value: (j) => countryName(j.country),
      render: (j) => <span title={j.country}>{countryName(j.country)}</span>,
    },
    {
      key: 'risk',
      header: 'Risk',
      value: (j) => j.riskLevel,
      render: (j) => (
        <Badge variant="light" color={RISK_COLOR[j.riskLevel]}>
          {j.riskLevel}
        </Badge>
      ),
    },
    {
      key: 'settlement',
      header: 'Settlement',
      value: (j) => (j.refused ? 'refused' : 'allowed'),
      render: (j) =>
        j.refused ? (
          <Badge variant="filled" color="red.9">
            refused
          </Badge>
        ) : (
          'allowed'
        ),
    },
    { key: 'reason', header: 'Reason', value: (j) => j.reason ?? '' },
    {
      key: 'updated',
      header: 'Updated',
      value: (j) => j.updatedAt,
      render: (j) => formatDateTime(j.updatedAt),
    },
  ];
  const own = scheme.data?.scheme;
  return (
    <Page
      title="Jurisdictions"
      description={
        own
          ? `The scheme operates in ${own.name} (${countryName(own.country)}). Foreign countries' risk levels, and those settlement with is refused; the compliance gate applies them to every transfer.`
          : "Foreign countries' risk levels, and those settlement with is refused; the compliance gate applies them to every transfer."
      }
    >
      {user.role === 'supervisor' && <SetJurisdictionForm />}
      <DataTable
        caption="Foreign jurisdictions"
        columns={columns}
        rows={list.rows}
        rowKey={(j) => j.country}
        loading={list.isPending}
        error={list.error}
        onRetry={list.refetch}
        empty="No foreign jurisdiction set: every country is low risk and allowed."
        csvName="jurisdictions"
      />
      <LoadMore list={list} />
    </Page>
  );
}
