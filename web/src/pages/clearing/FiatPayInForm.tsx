import { useState } from 'react';
import { Button, Group, Paper, Select, SimpleGrid, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { parseMoney } from '../../../../src/kernel/money';
import { formatDateTime } from '../../format';
import { fiat } from './shared';

type PayIn = components['schemas']['SettlementPayIn'];

/**
 * The supervisor confirms a platform's fiat pay-in as the bank reported it. Only the exact amount
 * due counts: another is recorded as refused and the API says so, in its words. Four eyes: a
 * transfer another person recorded shows who and when, never its amount or reference, which the
 * second person types from the bank.
 */
export function FiatPayInForm({
  windowId,
  payIns,
  names,
}: {
  windowId: string;
  payIns: PayIn[];
  names: Record<string, string>;
}) {
  const queryClient = useQueryClient();
  const awaiting = payIns.filter((p) => p.asset !== 'BTC' && p.status === 'awaiting');
  const [payInId, setPayInId] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const payIn = awaiting.find((p) => p.id === payInId);
  const confirm = useMutation({
    mutationFn: async (minor: string) =>
      unwrap(
        await api.POST('/v1/settlement-windows/{id}/fiat-pay-ins', {
          params: { path: { id: windowId } },
          body: {
            platformId: payIn?.platformId ?? '',
            amount: minor,
            currency: payIn?.asset ?? '',
            bankReference: reference.trim(),
          },
        }),
      ),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['settlement'] }),
  });
  // Kept while it shows its answer (the pay-in it confirmed is no longer awaiting).
  if (awaiting.length === 0 && !confirm.data) return null;
  const submit = () => {
    confirm.reset();
    const found: Record<string, string> = {};
    let minor: bigint | null = null;
    if (!payIn) found.payIn = 'pick the pay-in';
    else
      try {
        minor = parseMoney(amount, payIn.asset).minor;
        if (minor <= 0n) found.amount = 'must be greater than zero';
      } catch (e) {
        found.amount = e instanceof Error ? e.message.replace(/^amount: /, '') : String(e);
      }
    if (!reference.trim()) found.bankReference = "enter the bank's reference";
    setProblems(found);
    if (Object.keys(found).length === 0 && minor !== null) confirm.mutate(minor.toString());
  };
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Confirm a fiat pay-in
      </Title>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <SimpleGrid cols={{ base: 1, md: 4 }}>
          <Select
            label="Pay-in due"
            placeholder="Pick a pay-in"
            data={awaiting.map((p) => ({
              value: p.id,
              label: `${names[p.platformId] ?? p.platformId} · ${fiat(p.amountDue, p.asset)}`,
            }))}
            value={payInId}
            onChange={setPayInId}
            error={problems.payIn ?? fieldErrorOf(confirm.error, 'platformId')}
          />
          <TextInput
            label="Amount received"
            description={payIn ? `In ${payIn.asset}, e.g. 1250.00` : 'In the pay-in’s currency'}
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={problems.amount ?? fieldErrorOf(confirm.error, 'amount')}
          />
          <TextInput
            label="Bank reference"
            value={reference}
            onChange={(e) => setReference(e.currentTarget.value)}
            error={problems.bankReference ?? fieldErrorOf(confirm.error, 'bankReference')}
          />
          <Group align="flex-end">
            <Button type="submit" loading={confirm.isPending}>
              Confirm pay-in
            </Button>
          </Group>
        </SimpleGrid>
      </form>
      {payIn?.pendingConfirmation && !payIn.pendingConfirmation.bankReference && (
        <Text mt="sm" size="sm" data-testid="pay-in-pending">
          A transfer was recorded {formatDateTime(payIn.pendingConfirmation.recordedAt)}
          {payIn.pendingConfirmation.recordedBy
            ? ` by ${payIn.pendingConfirmation.recordedBy}`
            : ''}
          . To confirm it, type its amount and bank reference as the bank's statement shows them:
          the recorded ones are not shown, so that the second check is your own.
        </Text>
      )}
      <FormError error={confirm.error} />
      {confirm.data &&
        (confirm.data.status === 'received' ? (
          <Text mt="sm" data-testid="pay-in-confirmed">
            {fiat(confirm.data.amountDue, confirm.data.asset)} received from{' '}
            {names[confirm.data.platformId] ?? confirm.data.platformId}.
          </Text>
        ) : confirm.data.pendingConfirmation ? (
          <Text mt="sm" data-testid="pay-in-recorded">
            Recorded:{' '}
            {confirm.data.pendingConfirmation.amount
              ? fiat(confirm.data.pendingConfirmation.amount, confirm.data.asset)
              : 'a transfer'}{' '}
            from {names[confirm.data.platformId] ?? confirm.data.platformId}. It counts once another
            person confirms the same transfer, typing its amount and reference from the bank.
          </Text>
        ) : (
          <Text mt="sm" data-testid="pay-in-not-counted">
            Not counted: the pay-in is {confirm.data.status}.
          </Text>
        ))}
    </Paper>
  );
}
