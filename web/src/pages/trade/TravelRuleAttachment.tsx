import { useState } from 'react';
import { Alert, Paper, Switch, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import {
  emptyTravelRule,
  toIvms101,
  travelRuleErrors,
  TravelRuleFields,
  TravelRuleView,
  type TravelRuleForm,
} from '../../components/TravelRule';
import type { User } from '../../session';
import { useParticipantsOf } from '../../api/names';
import type { Contract } from './shared';
import { prefillTravelRule, useCounterpartyAddresses } from './travelRulePrefill';
import { travelRuleRequirement, type TravelRuleThreshold } from './travelRuleRequirement';

/** The scheme's Travel Rule threshold (it changes with the deployment, not while one runs). */
function useTravelRuleThreshold() {
  return useQuery({
    queryKey: ['travelRule', 'threshold'],
    staleTime: Infinity,
    queryFn: async (): Promise<TravelRuleThreshold> => {
      const t = unwrap(await api.GET('/v1/travel-rule/threshold'));
      return { minor: BigInt(t.minor), currency: t.currency, formatted: t.formatted };
    },
  });
}

/**
 * The optional Travel Rule data of an invoice (inbound: the foreign buyer is the originator) or
 * a payout (outbound: the company is the originator): whether it is attached, the form, its
 * errors, and its pre-filling from the registry for the chosen contract.
 */
export function useTravelRuleAttachment(input: {
  user: User;
  direction: 'inbound' | 'outbound';
  contract: Contract | undefined;
  /** For a payout: the address being paid (see prefillTravelRule). */
  address?: string;
  /** The amount in the contract's currency, as typed or converted (null: not known yet). */
  fiatValue: { minor: bigint; currency: string } | null;
}) {
  // The contract's company and counterparty, looked up by id (what the prefill reads).
  const participants = useParticipantsOf([
    input.contract?.companyId,
    input.contract?.counterpartyId,
  ]);
  const threshold = useTravelRuleThreshold();
  // At or above the threshold the data goes with the transfer: the section is on, and stays on.
  const required = travelRuleRequirement({
    contractCurrency: input.contract?.currency,
    fiatValue: input.fiatValue,
    threshold: threshold.data,
  });
  const [switchedOn, setAttached] = useState(false);
  const attached = switchedOn || required;
  const [errors, setErrors] = useState<Record<string, string>>({});
  const counterpartyAddresses = useCounterpartyAddresses(
    input.user,
    input.contract?.counterpartyId,
  );
  // Filled from the registry until the user edits a field: what arrives later (the
  // counterparty's addresses, the address picked) fills in too, as the value is derived from
  // them on every render. Once edited, the user's value stands.
  const [filling, setFilling] = useState(false);
  const [edited, setEdited] = useState<TravelRuleForm>(emptyTravelRule);
  const value = filling
    ? prefillTravelRule({
        direction: input.direction,
        contract: input.contract,
        participants,
        counterpartyAddresses: counterpartyAddresses.data,
        ...(input.address === undefined ? {} : { address: input.address }),
      })
    : edited;
  const prefill = () => setFilling(true);
  return {
    direction: input.direction,
    attached,
    setAttached,
    /** The amount reaches the threshold: the data cannot be left out. */
    required,
    threshold: threshold.data,
    /** The contract's currency, the one the amount is compared in. */
    currency: input.contract?.currency,
    value,
    /** The user's edit: the registry no longer fills the form. */
    setValue: (next: TravelRuleForm) => {
      setFilling(false);
      setEdited(next);
    },
    errors,
    prefill,
    /**
     * A contract was picked: its data filled from the registry, and attached for a payout (the
     * registry knows both parties and the VASPs). An invoice's originator is the foreign buyer,
     * whose identifiers and VASP the registry may not hold: attached only when the user asks.
     */
    attachFor(chosen: Contract | undefined) {
      setAttached(chosen !== undefined && input.direction === 'outbound');
      setErrors({});
      prefill();
    },
    clearErrors: () => setErrors({}),
    counterpartyAddresses,
    /** Checks the form if attached, shows its errors, and says whether it may be sent. */
    validate(): boolean {
      const found = attached ? travelRuleErrors(value) : {};
      setErrors(found);
      return Object.keys(found).length === 0;
    },
    /** The request body's `travelRule`, when attached. */
    body(): { travelRule?: ReturnType<typeof toIvms101> } {
      return attached ? { travelRule: toIvms101(value) } : {};
    },
  };
}

export type TravelRuleAttachment = ReturnType<typeof useTravelRuleAttachment>;

/** The switch that attaches Travel Rule data to the form, and the fields once it is on. */
export function TravelRuleAttachmentFields({
  attachment,
  label,
  beneficiaryVaspDescription,
}: {
  attachment: TravelRuleAttachment;
  label: string;
  beneficiaryVaspDescription: string;
}) {
  const { attached, value, required, threshold } = attachment;
  // The counterparty is the originator of an invoice's payment and the beneficiary of a payout;
  // the company's side is the other one, pre-filled when the switch is first turned on.
  const counterpartySide = attachment.direction === 'inbound' ? 'originator' : 'beneficiary';
  const companySide = attachment.direction === 'inbound' ? 'beneficiary' : 'originator';
  return (
    <>
      {required && threshold && (
        <Alert
          color="blue"
          role="note"
          title="Travel Rule data required"
          data-testid="travel-rule-required"
        >
          {threshold.currency === attachment.currency
            ? `The amount reaches the scheme's Travel Rule threshold of ${threshold.formatted}: the originator, the beneficiary and their VASPs go with the payment (FATF Recommendation 16).`
            : `The contract is in ${attachment.currency ?? 'another currency'}, the scheme's Travel Rule threshold in ${threshold.currency}: the data goes with every payment (FATF Recommendation 16).`}
        </Alert>
      )}
      <Switch
        label={required ? `${label}: required` : label}
        checked={attached}
        disabled={required}
        onChange={(e) => {
          const on = e.currentTarget.checked;
          attachment.setAttached(on);
          if (on && !value[companySide].name) attachment.prefill();
        }}
      />
      {attached && (
        <TravelRuleFields
          value={value}
          onChange={attachment.setValue}
          errors={attachment.errors}
          originatorLegend="Originator"
          beneficiaryLegend="Beneficiary"
          counterpartySide={counterpartySide}
          onFillFromRegistry={() => attachment.prefill()}
          beneficiaryVaspDescription={beneficiaryVaspDescription}
        />
      )}
    </>
  );
}

/** The Travel Rule data an invoice or payout carries, on its detail page. */
export function TravelRuleSection({ payload }: { payload: Record<string, unknown> | null }) {
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Travel Rule
      </Title>
      <TravelRuleView payload={payload} />
    </Paper>
  );
}
