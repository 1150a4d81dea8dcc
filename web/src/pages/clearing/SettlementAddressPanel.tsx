import { useState } from 'react';
import { Button, Code, Group, Paper, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';

type Address = components['schemas']['SettlementAddress'];

const KEY = ['settlement', 'addresses'] as const;

/** A pending proposal: who proposed it, and approve / reject for another officer. */
function Pending({ pending, mine }: { pending: Address; mine: boolean }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const decide = useMutation({
    mutationFn: async (decision: 'approve' | 'reject') =>
      decision === 'approve'
        ? unwrap(
            await api.POST('/v1/settlement-address/{id}/approve', {
              params: { path: { id: pending.id } },
            }),
          )
        : unwrap(
            await api.POST('/v1/settlement-address/{id}/reject', {
              params: { path: { id: pending.id } },
              body: { reason: reason.trim() || 'rejected by a second officer' },
            }),
          ),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: KEY }),
  });
  return (
    <Stack gap="xs" data-testid="settlement-address-pending">
      <Text size="sm">
        Pending: <Code>{pending.address}</Code>, proposed {formatDateTime(pending.createdAt)} by{' '}
        {mine ? 'you' : pending.registeredBy}. It is paid only once another officer of the platform
        approves it (four eyes); until then the active address stays the one paid.
      </Text>
      {mine ? (
        <Text size="sm" c="dimmed">
          You proposed it: another officer approves or rejects it. You may withdraw it.
        </Text>
      ) : null}
      <Group align="flex-end">
        {!mine && (
          <Button
            onClick={() => decide.mutate('approve')}
            loading={decide.isPending && decide.variables === 'approve'}
          >
            Approve address
          </Button>
        )}
        <TextInput
          label="Reason (to reject)"
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
        />
        <Button
          color="red"
          variant="light"
          onClick={() => decide.mutate('reject')}
          loading={decide.isPending && decide.variables === 'reject'}
        >
          {mine ? 'Withdraw proposal' : 'Reject proposal'}
        </Button>
      </Group>
      <FormError error={decide.error} />
    </Stack>
  );
}

/**
 * An officer proposes a new settlement address: the server gives the statement to sign, the
 * officer pastes the address's BIP322 signature of it. Paid once another officer approves it.
 */
function ProposeForm() {
  const queryClient = useQueryClient();
  const [address, setAddress] = useState('');
  const [signature, setSignature] = useState('');
  const statement = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.GET('/v1/settlement-address/statement', {
          params: { query: { address: address.trim() } },
        }),
      ),
  });
  const propose = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/v1/settlement-address', {
          body: {
            address: address.trim(),
            message: statement.data?.message ?? '',
            signature: signature.trim(),
          },
        }),
      ),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: KEY }),
  });
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (statement.data) propose.mutate();
        else statement.mutate();
      }}
    >
      <Stack gap="xs">
        <TextInput
          label="New settlement address"
          value={address}
          onChange={(e) => {
            setAddress(e.currentTarget.value);
            statement.reset();
            propose.reset();
          }}
          error={fieldErrorOf(propose.error, 'address')}
        />
        {statement.data && (
          <>
            <Text size="sm">
              Sign this statement with the address’s key (a BIP322 simple signature), before{' '}
              {formatDateTime(statement.data.validUntil)}:
            </Text>
            <Code
              block
              data-testid="settlement-address-statement"
              style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}
            >
              {statement.data.message}
            </Code>
            <Textarea
              label="Signature (base64)"
              value={signature}
              onChange={(e) => setSignature(e.currentTarget.value)}
              error={fieldErrorOf(propose.error, 'signature')}
            />
          </>
        )}
        <Group>
          <Button type="submit" loading={statement.isPending || propose.isPending}>
            {statement.data ? 'Propose address' : 'Get the statement to sign'}
          </Button>
        </Group>
        <FormError error={statement.error ?? propose.error} />
        {propose.data && (
          <Text size="sm" data-testid="settlement-address-proposed">
            Proposed: another officer of the platform approves it before it is paid.
          </Text>
        )}
      </Stack>
    </form>
  );
}

/**
 * The platform's settlement address, where the clearing pays its net receipts: the active one,
 * a pending replacement with approve / reject for a second officer, and a form to propose one.
 */
export function SettlementAddressPanel() {
  const user = useUser();
  const platformId = user.participantId;
  const addresses = useQuery({
    queryKey: [...KEY, platformId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/settlement-addresses/{platformId}', {
          params: { path: { platformId }, query: { limit: 20 } },
        }),
      ),
  });
  const items = addresses.data?.items ?? [];
  const active = items.find((a) => a.current);
  const pending = items.find((a) => a.status === 'proposed');
  return (
    <Paper withBorder p="md" data-testid="settlement-address">
      <Title order={2} size="h4" mb="sm">
        Settlement address
      </Title>
      <Stack gap="sm">
        {addresses.error ? (
          <FormError error={addresses.error} />
        ) : (
          <Text size="sm" data-testid="settlement-address-active">
            {active ? (
              <>
                The clearing pays this platform at <Code>{active.address}</Code> (approved{' '}
                {active.decidedAt ? formatDateTime(active.decidedAt) : 'before four eyes'}).
              </>
            ) : addresses.isPending ? (
              'Loading…'
            ) : (
              'No settlement address is active: the clearing holds this platform’s bitcoin pay-outs until one is approved.'
            )}
          </Text>
        )}
        {pending && <Pending pending={pending} mine={pending.registeredBy === user.id} />}
        <ProposeForm />
      </Stack>
    </Paper>
  );
}
