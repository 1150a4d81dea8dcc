import { useState } from 'react';
import { Group, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import {
  fiatToSats,
  formatMoney,
  formatMoneyForPeople,
  parseBtc,
  parseMoney,
  parseRate,
  satsToFiat,
  type Money,
  type Rate,
} from '../../../../src/kernel/money';
import { formatBtc } from '../../format';
import type { Contract } from './shared';

/**
 * A payment's amount as the user thinks of it: in the contract's currency or in BTC, whichever
 * the user picks, with the other shown beside as they type (converted at the newest rate the
 * API used for that currency). What is sent is what the API reads for the contract: sats for a
 * fixed-BTC contract, the currency's decimal amount otherwise.
 */

type Unit = 'fiat' | 'btc';

/** The newest rate the API used for a currency (the one the next payment would see, or near). */
function useLatestRate(currency: string | undefined) {
  return useQuery({
    queryKey: ['rate', 'latest', currency],
    enabled: currency !== undefined,
    queryFn: async () => {
      const page = unwrap(
        await api.GET('/v1/rates', { params: { query: { quote: currency ?? '', limit: 1 } } }),
      );
      const newest = page.items[0];
      return newest ? { rate: parseRate(newest.rate, newest.quote), text: newest.rate } : null;
    },
  });
}

interface Parsed {
  sats: bigint | null;
  fiat: Money | null;
}

function parse(text: string, unit: Unit, currency: string, rate: Rate | null): Parsed {
  if (unit === 'btc') {
    const sats = parseBtc(text);
    return { sats, fiat: rate ? satsToFiat(sats, rate, 'down') : null };
  }
  const fiat = parseMoney(text, currency);
  return { fiat, sats: rate ? fiatToSats(fiat, rate, 'up') : null };
}

export function useContractAmount(contract: Contract | undefined) {
  const [text, setText] = useState('');
  const [picked, setUnit] = useState<Unit | null>(null);
  const rate = useLatestRate(contract?.currency);
  const unit: Unit = picked ?? (contract?.unit === 'BTC' ? 'btc' : 'fiat');
  let parsed: Parsed | null = null;
  let error: string | undefined;
  if (contract && text.trim()) {
    try {
      parsed = parse(text, unit, contract.currency, rate.data?.rate ?? null);
      if ((parsed.sats ?? parsed.fiat?.minor ?? 0n) <= 0n) error = 'must be greater than zero';
    } catch (e) {
      error = e instanceof Error ? e.message.replace(/^amount: /, '') : String(e);
    }
  }
  const fixedBtc = contract?.unit === 'BTC';
  /** The amount as the API reads it, or null (with `problem` saying why). */
  const apiAmount = (): string | null => {
    if (!parsed || error) return null;
    if (fixedBtc) return parsed.sats === null ? null : parsed.sats.toString();
    return parsed.fiat ? formatMoney(parsed.fiat) : null;
  };
  const problem = (): string | undefined => {
    if (!contract) return undefined;
    if (!text.trim()) return 'enter the amount';
    if (error) return error;
    if (apiAmount() === null)
      return `no ${contract.currency} rate is known yet: enter the amount in ${fixedBtc ? 'BTC' : contract.currency}`;
    return undefined;
  };
  return {
    text,
    setText,
    unit,
    setUnit,
    parsed,
    error,
    apiAmount,
    problem,
    /** The amount in the contract's currency, typed or converted (null: not known yet). */
    fiatValue: parsed && !error ? parsed.fiat : null,
    rateText: rate.data?.text ?? null,
    reset: () => setText(''),
  };
}

export type ContractAmount = ReturnType<typeof useContractAmount>;

/** The amount field, its unit switch and the amount in the other unit beside it. */
export function AmountField({
  amount,
  contract,
  error,
}: {
  amount: ContractAmount;
  contract: Contract | undefined;
  error: string | undefined;
}) {
  const currency = contract?.currency ?? 'USD';
  const { parsed, unit } = amount;
  const other =
    parsed && !amount.error
      ? unit === 'btc'
        ? parsed.fiat && formatMoneyForPeople(parsed.fiat)
        : parsed.sats !== null && formatBtc(parsed.sats)
      : null;
  return (
    <Stack gap={4}>
      <TextInput
        label="Amount"
        description={unit === 'btc' ? 'In BTC, e.g. 0.05' : `In ${currency}, e.g. 1250.00`}
        value={amount.text}
        onChange={(e) => amount.setText(e.currentTarget.value)}
        error={error ?? amount.error}
        inputMode="decimal"
      />
      <Group gap="xs" wrap="nowrap">
        <SegmentedControl
          size="xs"
          aria-label="Amount unit"
          value={unit}
          onChange={(v) => amount.setUnit(v === 'btc' ? 'btc' : 'fiat')}
          data={[
            { value: 'fiat', label: currency },
            { value: 'btc', label: 'BTC' },
          ]}
        />
        {other && (
          <Text size="sm" data-testid="amount-beside">
            ≈ {other}
            {amount.rateText ? ` at ${amount.rateText} ${currency}/BTC` : ''}
          </Text>
        )}
      </Group>
    </Stack>
  );
}
