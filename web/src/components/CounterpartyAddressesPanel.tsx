import { useState } from 'react';
import {
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { LoadMore, usePagedList } from '../api/paging';
import type { components } from '../api/schema';
import { formatDateTime } from '../format';
import type { User } from '../session';
import { errorAt, fieldErrorOf, FormError } from './FormError';
import { PICKER_PAGE, SearchPicker } from './SearchPicker';
import { ErrorState, Loading } from './States';

type Participant = components['schemas']['Participant'];
type CounterpartyAddress = components['schemas']['CounterpartyAddress'];

function Ownership({ a }: { a: CounterpartyAddress }) {
  if (a.ownership === 'hosted')
    return (
      <Stack gap={2}>
        <Badge variant="light" color="blue">
          VASP-hosted
        </Badge>
        <Text size="sm">
          {a.vasp?.name ?? ''}
          {a.vasp?.lei ? ` (LEI ${a.vasp.lei})` : ''}
          {a.vasp && !a.vasp.id ? ' · not a registered VASP' : ''}
        </Text>
      </Stack>
    );
  return (
    <Stack gap={2}>
      <Badge variant="light" color="teal">
        self-hosted · BIP322 proof
      </Badge>
      {a.proof && (
        <Text size="sm">
          {a.proof.addressType} signature over “{a.proof.message}”
        </Text>
      )}
    </Stack>
  );
}

function RegisterAddressForm({ counterparty }: { counterparty: Participant }) {
  const queryClient = useQueryClient();
  const [ownership, setOwnership] = useState<'hosted' | 'self_hosted'>('hosted');
  const [address, setAddress] = useState('');
  const [vaspId, setVaspId] = useState<string | null>(null);
  // The statement the counterparty signs names it and the address (so a proof cannot be replayed
  // for another party); the server writes it, the counterparty signs it, the officer pastes both.
  const [message, setMessage] = useState('');
  const [signature, setSignature] = useState('');
  const statement = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.GET('/v1/participants/{id}/addresses/statement', {
          params: { path: { id: counterparty.id }, query: { address: address.trim() } },
        }),
      ),
    onSuccess: (served) => setMessage(served.message),
  });
  const register = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/participants/{id}/addresses', {
          params: { path: { id: counterparty.id } },
          body:
            ownership === 'hosted'
              ? {
                  ownership,
                  address: address.trim(),
                  vaspId: vaspId ?? '',
                }
              : { ownership, address: address.trim(), message, signature: signature.trim() },
        }),
      ),
    onSuccess: () => {
      setAddress('');
      setSignature('');
      void queryClient.invalidateQueries({ queryKey: ['counterpartyAddress', counterparty.id] });
    },
  });
  const error = register.error;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        register.mutate();
      }}
      noValidate
      aria-label={`Register an address of ${counterparty.legalName}`}
    >
      <Stack gap="sm">
        <SegmentedControl
          aria-label="How ownership is shown"
          data={[
            { value: 'hosted', label: 'Hosted by a VASP' },
            { value: 'self_hosted', label: 'Self-hosted (BIP322 proof)' },
          ]}
          value={ownership}
          onChange={(v) => setOwnership(v)}
        />
        <TextInput
          label="Counterparty address"
          value={address}
          onChange={(e) => {
            setAddress(e.currentTarget.value);
            setMessage('');
          }}
          error={
            errorAt(error, 'address', ['INVALID_ADDRESS', 'ADDRESS_ALREADY_ASSIGNED']) ??
            errorAt(statement.error, 'query.address', ['INVALID_ADDRESS'])
          }
        />
        {ownership === 'hosted' ? (
          // Hosted addresses are held at a registered foreign VASP, searched in the registry.
          <SearchPicker
            label="VASP"
            description="The registered foreign VASP (exchange or custodian) that holds the address for the counterparty"
            placeholder="Type the start of its name"
            queryKey={['vasps']}
            search={async (q) =>
              unwrap(
                await api.GET('/v1/vasps', {
                  params: { query: { ...(q ? { q } : {}), limit: PICKER_PAGE } },
                }),
              ).items
            }
            idOf={(v) => v.id}
            labelOf={(v) =>
              `${v.name} (${v.jurisdiction}, LEI ${v.lei})${v.screening && v.screening.status !== 'clear' ? ` · screening ${v.screening.status}` : ''}`
            }
            value={vaspId}
            onChange={setVaspId}
            nothingFound="No registered VASP's name starts with that"
            error={errorAt(error, 'vaspId', ['SCREENING_HIT_UNRESOLVED'])}
          />
        ) : (
          <>
            <Group align="flex-end" wrap="nowrap">
              <Textarea
                style={{ flex: 1 }}
                label="Statement to sign"
                description="The counterparty signs exactly this text with the address's key; it names the counterparty and the address and is accepted for 30 days"
                value={message}
                readOnly
                autosize
                minRows={2}
                placeholder="Enter the address, then get the statement"
                error={fieldErrorOf(error, 'message')}
              />
              <Button
                variant="light"
                onClick={() => statement.mutate()}
                loading={statement.isPending}
                disabled={address.trim() === ''}
              >
                Get the statement
              </Button>
              {message ? (
                <CopyButton value={message}>
                  {({ copied, copy }) => (
                    <Button variant="subtle" onClick={copy}>
                      {copied ? 'Copied' : 'Copy'}
                    </Button>
                  )}
                </CopyButton>
              ) : null}
            </Group>
            <Textarea
              label="BIP322 signature"
              description="Base64, a simple signature made with the address's key (BIP322)"
              value={signature}
              onChange={(e) => setSignature(e.currentTarget.value)}
              error={
                fieldErrorOf(error, 'signature') ??
                (fieldErrorOf(error, 'message')
                  ? undefined
                  : errorAt(error, 'signature', ['OWNERSHIP_PROOF_INVALID']))
              }
            />
          </>
        )}
        <FormError error={error} />
        <Group justify="flex-end">
          <Button type="submit" loading={register.isPending}>
            Register address
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** A counterparty's registered addresses, each with how its ownership was shown. */
export function CounterpartyAddressesPanel({
  counterparty,
  user,
}: {
  counterparty: Participant;
  user: User;
}) {
  const [adding, setAdding] = useState(false);
  // A page at a time, newest first (the key differs from the pickers' list of every page).
  const addresses = usePagedList(
    ['counterpartyAddress', counterparty.id, 'pages'],
    async (cursor) =>
      unwrap(
        await api.GET('/v1/participants/{id}/addresses', {
          params: { path: { id: counterparty.id }, query: { cursor } },
        }),
      ),
  );
  const mayRegister = user.role === 'platform' || user.role === 'supervisor';
  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h5">
          Registered addresses
        </Title>
        {mayRegister && (
          <Button size="xs" variant="light" onClick={() => setAdding((v) => !v)}>
            {adding ? 'Close the form' : 'Register an address'}
          </Button>
        )}
      </Group>
      {adding && <RegisterAddressForm counterparty={counterparty} />}
      {addresses.isPending ? (
        <Loading />
      ) : addresses.error || !addresses.rows ? (
        <ErrorState error={addresses.error} onRetry={addresses.refetch} />
      ) : addresses.rows.length === 0 ? (
        <Text size="sm">
          No address registered: payouts to this counterparty are refused until one is.
        </Text>
      ) : (
        <Table data-testid="counterparty-addresses">
          <Table.Caption>Addresses and ownership proof</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Address</Table.Th>
              <Table.Th>Network</Table.Th>
              <Table.Th>Ownership</Table.Th>
              <Table.Th>Verified</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {addresses.rows.map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>
                  <Code style={{ wordBreak: 'break-all' }}>{a.address}</Code>
                </Table.Td>
                <Table.Td>{a.network}</Table.Td>
                <Table.Td>
                  <Ownership a={a} />
                </Table.Td>
                <Table.Td>{formatDateTime(a.verifiedAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <LoadMore list={addresses} />
    </Paper>
  );
}
