/*
 * The wallets page: company wallets (paged) and registering one from a descriptor or a bare key.
 * Its components run past 60 lines (a form and a page of JSX), kept whole.
 */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import {
  Anchor,
  Button,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { ParticipantPicker } from '../../components/ParticipantPicker';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { useParticipantNames, type Wallet } from './shared';

const SCRIPT_TYPES = [
  { value: 'wpkh', label: 'Native segwit, BIP84 (wpkh)' },
  { value: 'tr', label: 'Taproot, BIP86 (tr)' },
];

/**
 * The descriptor to register: the text as given when it is a descriptor, or, for a bare account
 * xpub/tpub, that key's receive and change branches (BIP389 `<0;1>`) in the chosen script type.
 */
function descriptorOf(input: string, scriptType: string): string {
  const text = input.trim();
  return /^[xt]pub[1-9A-HJ-NP-Za-km-z]+$/.test(text) ? `${scriptType}(${text}/<0;1>/*)` : text;
}

function RegisterWalletForm() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [companyId, setCompanyId] = useState<string | null>(null);
  const [descriptor, setDescriptor] = useState('');
  const [scriptType, setScriptType] = useState('wpkh');
  const [label, setLabel] = useState('');
  const register = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/wallets', {
          body: {
            companyId: companyId ?? '',
            descriptor: descriptorOf(descriptor, scriptType),
            ...(label ? { label } : {}),
          },
        }),
      ),
    onSuccess: (wallet) => {
      void queryClient.invalidateQueries({ queryKey: ['wallet'] });
      void navigate(`/registry/wallets/${wallet.id}`);
    },
  });
  const error = register.error;
  const bareKey = descriptorOf(descriptor, scriptType) !== descriptor.trim();
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Register a watch-only wallet
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          register.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <ParticipantPicker
              label="Company"
              placeholder="Type the start of its name"
              kind="company"
              value={companyId}
              onChange={setCompanyId}
              error={fieldErrorOf(error, 'companyId')}
            />
            <Select
              label="Script type"
              description="Used when you give a bare xpub/tpub"
              data={SCRIPT_TYPES}
              value={scriptType}
              onChange={(v) => v && setScriptType(v)}
              allowDeselect={false}
            />
            <TextInput
              label="Label"
              placeholder="default"
              value={label}
              onChange={(e) => setLabel(e.currentTarget.value)}
              error={fieldErrorOf(error, 'label')}
            />
          </SimpleGrid>
          <Textarea
            label="Descriptor or xpub"
            description={
              bareKey
                ? `Registered as ${descriptorOf(descriptor, scriptType)}`
                : 'An output descriptor with a receive branch (…/0/* or …/<0;1>/*), e.g. wpkh([fingerprint/84h/1h/0h]tpub…/<0;1>/*), or an account xpub/tpub. Public keys only: the platform signs elsewhere.'
            }
            autosize
            minRows={2}
            value={descriptor}
            onChange={(e) => setDescriptor(e.currentTarget.value)}
            error={fieldErrorOf(error, 'descriptor')}
            styles={{ input: { fontFamily: 'monospace' } }}
          />
          <FormError error={error} />
          <Group justify="flex-end">
            <Button type="submit" loading={register.isPending}>
              Register wallet
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

export function WalletsPage() {
  const user = useUser();
  const wallets = usePagedList(['wallet', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/wallets', { params: { query: { cursor } } })),
  );
  const nameOf = useParticipantNames((wallets.rows ?? []).map((w) => w.companyId));
  const columns: Column<Wallet>[] = [
    {
      key: 'id',
      header: 'Wallet',
      value: (w) => w.id,
      render: (w) => (
        <Anchor component={Link} to={`/registry/wallets/${w.id}`}>
          {w.id}
        </Anchor>
      ),
    },
    { key: 'company', header: 'Company', value: (w) => nameOf(w.companyId) },
    { key: 'label', header: 'Label', value: (w) => w.label },
    { key: 'network', header: 'Network', value: (w) => w.network },
    {
      key: 'handed',
      header: 'Receive addresses handed out',
      align: 'right',
      value: (w) => String(w.nextIndex),
    },
    {
      key: 'change',
      header: 'Change addresses',
      align: 'right',
      value: (w) => String(w.nextChangeIndex),
    },
    {
      key: 'created',
      header: 'Registered',
      value: (w) => w.createdAt,
      render: (w) => formatDateTime(w.createdAt),
    },
  ];
  const registers = user.role === 'platform' || user.role === 'supervisor';
  return (
    <Page
      title="Wallets"
      description={
        registers
          ? "Companies' watch-only wallets (descriptors of public keys): register one for a client company, and follow the addresses it hands out. Newest first, a page at a time; filtered and sorted in the browser."
          : 'Your watch-only wallet, registered by your platform, and the addresses it hands out. Read-only.'
      }
    >
      {registers && <RegisterWalletForm />}
      <DataTable
        caption="Wallets"
        columns={columns}
        rows={wallets.rows}
        rowKey={(w) => w.id}
        loading={wallets.isPending}
        error={wallets.error}
        onRetry={() => void wallets.refetch()}
        empty={
          registers
            ? 'No wallet registered yet.'
            : 'Your platform has registered no wallet for you yet.'
        }
        csvName="wallets"
      />
      <LoadMore list={wallets} />
    </Page>
  );
}
