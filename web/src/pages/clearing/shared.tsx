import { useState, type ReactNode } from 'react';
import { Button, Group, Paper, Stack, Text, Textarea } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { useParticipantNamesOf } from '../../api/names';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { PICKER_PAGE, SearchPicker, type SearchPickerProps } from '../../components/SearchPicker';
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

/** Ids per licence lookup, as for participants (`IDS_PER_LOOKUP` in api/names.ts). */
const IDS_PER_LOOKUP = 100;

/**
 * Names by id of the licensed participants (platforms and miners) `ids` names, from the licence
 * register every role may read (its licences the caller may see, `/v1/licences?participantIds=`):
 * miners and companies cannot list participants, but may name a market. The lookup grows with
 * the rows shown, not with the register.
 */
function useLicensedNamesOf(ids: readonly (string | null | undefined)[]): Map<string, string> {
  const wanted = [
    ...new Set(ids.filter((id): id is string => !!id && id.startsWith('par_'))),
  ].sort();
  const found = useQuery({
    queryKey: ['licence', 'names', wanted],
    enabled: wanted.length > 0,
    queryFn: async () => {
      const names = new Map<string, string>();
      for (let start = 0; start < wanted.length; start += IDS_PER_LOOKUP) {
        const chunk = wanted.slice(start, start + IDS_PER_LOOKUP);
        // A participant holds a licence or a few: one page of 500 holds a hundred's.
        const page = unwrap(
          await api.GET('/v1/licences', {
            params: { query: { participantIds: chunk.join(','), limit: 500 } },
          }),
        );
        for (const l of page.items)
          if (l.participantName) names.set(l.participantId, l.participantName);
      }
      return names;
    },
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
  return found.data ?? new Map<string, string>();
}

/**
 * Names by id of the participants `ids` names (what the page shows): licensed platforms and
 * miners from the licence register, and the others looked up by id (`/v1/participants?ids=`)
 * among those the caller may list, never by reading every page of either.
 */
export function useNames(ids: readonly (string | null | undefined)[]): Record<string, string> {
  const licensed = useLicensedNamesOf(ids);
  const nameOf = useParticipantNamesOf(ids);
  const names: Record<string, string> = {};
  for (const id of ids) if (id && nameOf(id) !== id) names[id] = nameOf(id);
  for (const [id, name] of licensed) names[id] = name;
  return names;
}

/** A market: a platform and its name (with its licence status when not active). */
export type Market = { id: string; name: string };

/**
 * A market picker: the platforms that run a market whose name starts with what was typed
 * (`/v1/markets?q=`, which every role may read: a company or a miner sees no platform's
 * licence), one page of matches, so it does not grow with the register; a platform whose
 * licence is not active says so. `extras` are markets the page knows of (its own platform, its
 * offers' markets), offered before the search answers.
 */
export function MarketPicker({
  onChange,
  ...props
}: {
  onChange: (id: string | null) => void;
} & Omit<
  SearchPickerProps<Market>,
  'queryKey' | 'search' | 'idOf' | 'labelOf' | 'onChange' | 'nothingFound'
>) {
  return (
    <SearchPicker
      {...props}
      queryKey={['market', 'directory']}
      search={async (q) =>
        unwrap(
          await api.GET('/v1/markets', {
            params: { query: { ...(q ? { q } : {}), limit: PICKER_PAGE } },
          }),
        ).items.map((m) => ({
          id: m.platformId,
          name: `${m.name ?? m.platformId}${m.licenceStatus === 'active' ? '' : ` (licence ${m.licenceStatus})`}`,
        }))
      }
      idOf={(m) => m.id}
      labelOf={(m) => m.name}
      onChange={(id) => onChange(id)}
      nothingFound="No market's platform starts with that"
    />
  );
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
