import { useEffect, useState } from 'react';
import { Paper, Switch, Title } from '@mantine/core';
import {
  emptyTravelRule,
  toIvms101,
  travelRuleErrors,
  TravelRuleFields,
  TravelRuleView,
  type TravelRuleForm,
} from '../../components/TravelRule';
import type { User } from '../../session';
import { useParticipants, type Contract } from './shared';
import { prefillTravelRule, useCounterpartyAddresses } from './travelRulePrefill';

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
}) {
  const participants = useParticipants();
  const [attached, setAttached] = useState(false);
  const [value, setValue] = useState<TravelRuleForm>(emptyTravelRule);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const counterpartyAddresses = useCounterpartyAddresses(
    input.user,
    input.contract?.counterpartyId,
  );
  // Filled from the registry until the user edits a field: what arrives later (the
  // counterparty's addresses, the address picked) fills in too.
  const [filling, setFilling] = useState(false);
  const registryValue = (chosen = input.contract) =>
    prefillTravelRule({
      direction: input.direction,
      contract: chosen,
      participants: participants.data,
      counterpartyAddresses: counterpartyAddresses.data,
      ...(input.address === undefined ? {} : { address: input.address }),
    });
  const prefill = (chosen = input.contract) => {
    setValue(registryValue(chosen));
    setFilling(true);
  };
  const { contract, address } = input;
  useEffect(() => {
    if (filling) setValue(registryValue(contract));
    // Refilled when these arrive or change (registryValue reads them).
  }, [filling, contract?.id, participants.data, counterpartyAddresses.data, address]);
  return {
    direction: input.direction,
    attached,
    setAttached,
    value,
    /** The user's edit: the registry no longer fills the form. */
    setValue: (next: TravelRuleForm) => {
      setFilling(false);
      setValue(next);
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
      prefill(chosen);
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
  const { attached, value } = attachment;
  // The counterparty is the originator of an invoice's payment and the beneficiary of a payout;
  // the company's side is the other one, pre-filled when the switch is first turned on.
  const counterpartySide = attachment.direction === 'inbound' ? 'originator' : 'beneficiary';
  const companySide = attachment.direction === 'inbound' ? 'beneficiary' : 'originator';
  return (
    <>
      <Switch
        label={label}
        checked={attached}
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
