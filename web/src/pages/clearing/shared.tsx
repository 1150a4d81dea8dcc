import { useState, type ReactNode } from 'react';
import { Button, Group, Paper, Stack, Text, Textarea } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { useParticipantNamesOf } from '../../api/names';
import { allPages } from '../../api/paging';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { formatBtc } from '../../format';
import { formatMoneyForPeople, money } from '../../../../src/kernel/money';

/**
 * What the clearing pages (lots, fixings, the market, settlement windows) share: amounts as
 * people read them, the names of platforms and miners, and the reason form of a decision.
 */

/** Fiat from minor units, "COP 10,000,000.00"; a currency the scheme does not know, as given. */
export function fiat(minor: string | bigint, currency: string): string {
  try {
    return formatMoneyForPeople(money(BigInt(minor), currency));
  } catch {
    return `${currency} ${String(minor)} (minor units)`;
  }
}

/** A settlement asset's amount: bitcoin from sats, a currency from its minor units. */
export const assetAmount = (value: string, asset: string) =>
  asset === 'BTC' ? formatBtc(value) : fiat(value, asset);

/** A rate "250000000" of `quote` per BTC, for people: "COP 250,000,000 per BTC". */
export function ratePerBtc(rate: string, quote: string): string {
  const [whole = '', fraction] = rate.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${quote} ${grouped}${fraction ? `.${fraction}` : ''} per BTC`;
}

/** The short end of an id, for a link's text ("Deal …7QX2KD"); the whole id goes in `title`. */
export const shortId = (label: string, id: string) => `${label} …${id.slice(-6)}`;

/**
 * Names of licensed participants (platforms and miners) by id, from the licence register every
 * role may read: miners and companies cannot list participants, but may name a market. Still
 * every page, growing with the licensed platforms and miners (docs/architecture.md, Known gaps 9).
 */
export function useLicensed() {
  return useQuery({
    queryKey: ['licence', 'all'],
    queryFn: () =>
      allPages(async (cursor) =>
        unwrap(await api.GET('/v1/licences', { params: { query: { limit: 500, cursor } } })),
      ),
  });
}

/**
 * Names by id of the participants `ids` names (what the page shows): licensed platforms and
 * miners from the licence register, and the others looked up by id (`/v1/participants?ids=`)
 * among those the caller may list, never by reading every page of participants.
 */
export function useNames(ids: readonly (string | null | undefined)[]): Record<string, string> {
  const licensed = useLicensed();
  const nameOf = useParticipantNamesOf(ids);
  const names: Record<string, string> = {};
  for (const id of ids) if (id && nameOf(id) !== id) names[id] = nameOf(id);
  for (const l of licensed.data ?? [])
    if (l.participantName) names[l.participantId] = l.participantName;
  return names;
}

/** The platforms with an active licence: the markets a miner or an importer may pick. */
export function usePlatforms(): { value: string; label: string }[] {
  const licensed = useLicensed();
  const seen = new Map<string, string>();
  for (const l of licensed.data ?? [])
    if (l.kind === 'vasp' && l.status === 'active')
      seen.set(l.participantId, l.participantName ?? l.participantId);
  return [...seen].map(([value, label]) => ({ value, label }));
}

/**
 * A decision that needs a reason (release, refund): the reason field, the button, the API's
 * refusal as it words it, and what the API answered once it succeeded.
 */
export function ReasonForm({
  title,
  action,
  minLength,
  pending,
  error,
  onSubmit,
  onCancel,
  answer,
}: {
  title: string;
  action: string;
  minLength: number;
  pending: boolean;
  error: unknown;
  onSubmit: (reason: string) => void;
  onCancel: () => void;
  answer?: ReactNode;
}) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  return (
    <Paper withBorder p="md">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const text = reason.trim();
          if (text.length < minLength) {
            setProblem(`write the reason (at least ${minLength} characters)`);
            return;
          }
          setProblem(undefined);
          onSubmit(text);
        }}
      >
        <Stack gap="sm">
          <Text fw={700}>{title}</Text>
          <Textarea
            label="Reason"
            description="Kept in the audit log"
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            error={problem ?? fieldErrorOf(error, 'reason')}
            autosize
            minRows={2}
          />
          <Group>
            <Button type="submit" loading={pending}>
              {action}
            </Button>
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
      <FormError error={error} />
      {answer}
    </Paper>
  );
}
