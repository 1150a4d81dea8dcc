import { Button, Fieldset, Group, Select, SimpleGrid, Table, Text, TextInput } from '@mantine/core';
import type { components } from '../api/schema';

/**
 * Travel Rule (FATF Recommendation 16) data in IVMS101 form, for the invoice and payout forms,
 * and its display on their detail pages. The scheme's transfers are between legal persons (a
 * company and a foreign company), each carried by a VASP; the policy gate validates the payload
 * (structure and the constraints C1–C12 of IVMS101) and names what is wrong.
 */

type Participant = components['schemas']['Participant'];

/** IVMS101 5.2.7 identifier types a legal person may carry (constraint C7). */
const IDENTIFIER_TYPES = [
  { value: 'LEIX', label: 'LEI' },
  { value: 'RAID', label: 'Registration number' },
  { value: 'TXID', label: 'Tax number' },
  { value: 'MISC', label: 'Other' },
] as const;
type IdentifierType = (typeof IDENTIFIER_TYPES)[number]['value'];

export interface LegalPersonForm {
  name: string;
  /** ISO 3166-1 alpha-2 country of registration. */
  country: string;
  identifierType: IdentifierType;
  identifier: string;
  /** GLEIF Registration Authorities List code (RA000001 …), for identifiers other than an LEI. */
  registrationAuthority: string;
  /** The person's customer number at its VASP (one way to satisfy IVMS101 C4 for an originator). */
  customerNumber: string;
  street: string;
  buildingNumber: string;
  postcode: string;
  town: string;
  addressCountry: string;
}

export interface VaspForm {
  name: string;
  lei: string;
}

export interface TravelRuleForm {
  originator: LegalPersonForm;
  beneficiary: LegalPersonForm;
  originatingVasp: VaspForm;
  beneficiaryVasp: VaspForm;
}

export const emptyPerson = (): LegalPersonForm => ({
  name: '',
  country: '',
  identifierType: 'LEIX',
  identifier: '',
  registrationAuthority: '',
  customerNumber: '',
  street: '',
  buildingNumber: '',
  postcode: '',
  town: '',
  addressCountry: '',
});

export const emptyTravelRule = (): TravelRuleForm => ({
  originator: emptyPerson(),
  beneficiary: emptyPerson(),
  originatingVasp: { name: '', lei: '' },
  beneficiaryVasp: { name: '', lei: '' },
});

/** A legal person as the registry knows it: legal name, country, LEI, first postal address. */
export function personFromRegistry(p: Participant | undefined): LegalPersonForm {
  if (!p) return emptyPerson();
  const address = p.addresses[0];
  return {
    ...emptyPerson(),
    name: p.legalName,
    country: p.country,
    identifierType: p.lei ? 'LEIX' : p.registrationNumber ? 'RAID' : 'LEIX',
    identifier: p.lei ?? p.registrationNumber ?? '',
    street: address?.lines.join(', ') ?? '',
    postcode: address?.postalCode ?? '',
    town: address?.city ?? '',
    addressCountry: address?.country ?? '',
  };
}

const trimmed = (value: string) => value.trim();

function hasAddress(p: LegalPersonForm): boolean {
  return [p.street, p.buildingNumber, p.postcode, p.town].some((v) => trimmed(v) !== '');
}

/** Field errors the form can tell before sending (the gate checks everything else). */
export function travelRuleErrors(form: TravelRuleForm): Record<string, string> {
  const errors: Record<string, string> = {};
  const person = (key: 'originator' | 'beneficiary', p: LegalPersonForm) => {
    if (!trimmed(p.name)) errors[`${key}.name`] = 'the legal name is required';
    if (!/^[A-Za-z]{2}$/.test(trimmed(p.country)))
      errors[`${key}.country`] = 'an ISO 3166-1 two-letter country code, e.g. DE';
    if (trimmed(p.identifier) && p.identifierType !== 'LEIX') {
      if (!/^RA\d{6}$/.test(trimmed(p.registrationAuthority)))
        errors[`${key}.registrationAuthority`] =
          'a GLEIF registration authority code like RA000548 (IVMS101 C9, C10)';
    }
    if (hasAddress(p)) {
      if (!trimmed(p.street)) errors[`${key}.street`] = 'the street (or address line) is required';
      if (!trimmed(p.town)) errors[`${key}.town`] = 'the town is required';
    }
  };
  person('originator', form.originator);
  person('beneficiary', form.beneficiary);
  const o = form.originator;
  if (!trimmed(o.identifier) && !trimmed(o.customerNumber) && !hasAddress(o))
    errors['originator.identifier'] =
      'the originator needs an identifier, a customer number or an address (IVMS101 C4)';
  if (!trimmed(form.originatingVasp.name))
    errors['originatingVasp.name'] = "the originator's VASP is required";
  return errors;
}

function legalPerson(p: LegalPersonForm) {
  const identifier = trimmed(p.identifier);
  const street = trimmed(p.street);
  const building = trimmed(p.buildingNumber);
  return {
    legalPerson: {
      name: {
        nameIdentifier: [
          { legalPersonName: trimmed(p.name), legalPersonNameIdentifierType: 'LEGL' },
        ],
      },
      ...(hasAddress(p)
        ? {
            geographicAddress: [
              {
                addressType: 'GEOG',
                // IVMS101 C8: a street with a building number, or else an address line.
                ...(building ? { streetName: street, buildingNumber: building } : {}),
                ...(!building ? { addressLine: [street] } : {}),
                ...(trimmed(p.postcode) ? { postcode: trimmed(p.postcode) } : {}),
                townName: trimmed(p.town),
                country: (trimmed(p.addressCountry) || trimmed(p.country)).toUpperCase(),
              },
            ],
          }
        : {}),
      ...(trimmed(p.customerNumber) ? { customerNumber: trimmed(p.customerNumber) } : {}),
      ...(identifier
        ? {
            nationalIdentification: {
              nationalIdentifier: identifier,
              nationalIdentifierType: p.identifierType,
              ...(p.identifierType !== 'LEIX'
                ? { registrationAuthority: trimmed(p.registrationAuthority) }
                : {}),
            },
          }
        : {}),
      countryOfRegistration: trimmed(p.country).toUpperCase(),
    },
  };
}

function vasp(v: VaspForm) {
  const lei = trimmed(v.lei);
  return {
    legalPerson: {
      name: {
        nameIdentifier: [
          { legalPersonName: trimmed(v.name), legalPersonNameIdentifierType: 'LEGL' },
        ],
      },
      ...(lei
        ? { nationalIdentification: { nationalIdentifier: lei, nationalIdentifierType: 'LEIX' } }
        : {}),
    },
  };
}

/** The IVMS101 payload of the form (originator, beneficiary and their VASPs). */
export function toIvms101(form: TravelRuleForm): Record<string, unknown> {
  return {
    originator: { originatorPersons: [legalPerson(form.originator)] },
    beneficiary: { beneficiaryPersons: [legalPerson(form.beneficiary)] },
    originatingVASP: { originatingVASP: vasp(form.originatingVasp) },
    ...(trimmed(form.beneficiaryVasp.name)
      ? { beneficiaryVASP: { beneficiaryVASP: vasp(form.beneficiaryVasp) } }
      : {}),
  };
}

function PersonFields({
  legend,
  prefix,
  value,
  onChange,
  errors,
  originator,
}: {
  legend: string;
  prefix: 'originator' | 'beneficiary';
  value: LegalPersonForm;
  onChange: (value: LegalPersonForm) => void;
  errors: Record<string, string>;
  originator: boolean;
}) {
  const field = (key: keyof LegalPersonForm) => ({
    value: value[key],
    onChange: (e: { currentTarget: { value: string } }) =>
      onChange({ ...value, [key]: e.currentTarget.value }),
    error: errors[`${prefix}.${key}`],
  });
  return (
    <Fieldset legend={legend}>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <TextInput label={`${legend}: legal name`} {...field('name')} />
        <TextInput
          label={`${legend}: country`}
          description="ISO 3166-1, e.g. DE"
          maxLength={2}
          {...field('country')}
        />
        <Select
          label={`${legend}: identifier type`}
          data={IDENTIFIER_TYPES.map((t) => ({ value: t.value, label: t.label }))}
          value={value.identifierType}
          onChange={(v) => v && onChange({ ...value, identifierType: v as IdentifierType })}
          allowDeselect={false}
        />
        <TextInput
          label={`${legend}: ${value.identifierType === 'LEIX' ? 'LEI' : 'national identifier'}`}
          {...field('identifier')}
        />
        {value.identifierType !== 'LEIX' && (
          <TextInput
            label={`${legend}: registration authority`}
            description="GLEIF RA code, e.g. RA000548"
            {...field('registrationAuthority')}
          />
        )}
        {originator && (
          <TextInput
            label={`${legend}: customer number`}
            description="At its VASP"
            {...field('customerNumber')}
          />
        )}
        <TextInput label={`${legend}: street`} {...field('street')} />
        <TextInput label={`${legend}: building number`} {...field('buildingNumber')} />
        <TextInput label={`${legend}: postcode`} {...field('postcode')} />
        <TextInput label={`${legend}: town`} {...field('town')} />
        <TextInput
          label={`${legend}: address country`}
          description="If not the country of registration"
          maxLength={2}
          {...field('addressCountry')}
        />
      </SimpleGrid>
    </Fieldset>
  );
}

function VaspFields({
  legend,
  prefix,
  value,
  onChange,
  errors,
  description,
}: {
  legend: string;
  prefix: 'originatingVasp' | 'beneficiaryVasp';
  value: VaspForm;
  onChange: (value: VaspForm) => void;
  errors: Record<string, string>;
  description: string;
}) {
  return (
    <Fieldset legend={legend}>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <TextInput
          label={`${legend}: name`}
          description={description}
          value={value.name}
          onChange={(e) => onChange({ ...value, name: e.currentTarget.value })}
          error={errors[`${prefix}.name`]}
        />
        <TextInput
          label={`${legend}: LEI`}
          description="Optional"
          value={value.lei}
          onChange={(e) => onChange({ ...value, lei: e.currentTarget.value })}
          error={errors[`${prefix}.lei`]}
        />
      </SimpleGrid>
    </Fieldset>
  );
}

/** The originator, beneficiary and VASP fields of a transfer's Travel Rule data. */
export function TravelRuleFields({
  value,
  onChange,
  errors,
  originatorLegend,
  beneficiaryLegend,
  onFillFromRegistry,
  beneficiaryVaspDescription,
}: {
  value: TravelRuleForm;
  onChange: (value: TravelRuleForm) => void;
  errors: Record<string, string>;
  originatorLegend: string;
  beneficiaryLegend: string;
  onFillFromRegistry?: () => void;
  beneficiaryVaspDescription: string;
}) {
  return (
    <>
      <Group justify="space-between">
        <Text size="sm">
          IVMS101 data of both sides (FATF Recommendation 16). The gate requires it at or above the
          scheme&apos;s threshold and checks it.
        </Text>
        {onFillFromRegistry && (
          <Button variant="default" size="xs" onClick={onFillFromRegistry}>
            Fill from the registry
          </Button>
        )}
      </Group>
      <PersonFields
        legend={originatorLegend}
        prefix="originator"
        value={value.originator}
        onChange={(originator) => onChange({ ...value, originator })}
        errors={errors}
        originator
      />
      <PersonFields
        legend={beneficiaryLegend}
        prefix="beneficiary"
        value={value.beneficiary}
        onChange={(beneficiary) => onChange({ ...value, beneficiary })}
        errors={errors}
        originator={false}
      />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <VaspFields
          legend="Originating VASP"
          prefix="originatingVasp"
          value={value.originatingVasp}
          onChange={(originatingVasp) => onChange({ ...value, originatingVasp })}
          errors={errors}
          description="The platform that sends the payment"
        />
        <VaspFields
          legend="Beneficiary VASP"
          prefix="beneficiaryVasp"
          value={value.beneficiaryVasp}
          onChange={(beneficiaryVasp) => onChange({ ...value, beneficiaryVasp })}
          errors={errors}
          description={beneficiaryVaspDescription}
        />
      </SimpleGrid>
    </>
  );
}

// ---------------------------------------------------------------- display

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

interface PersonRow {
  role: string;
  name: string;
  country: string;
  identifier: string;
  customerNumber: string;
  address: string;
}

function personRow(role: string, person: unknown): PersonRow {
  const p = isObject(person) ? person : {};
  const legal = isObject(p.legalPerson) ? p.legalPerson : null;
  const natural = isObject(p.naturalPerson) ? p.naturalPerson : null;
  const names = legal
    ? arrayOf(isObject(legal.name) ? legal.name.nameIdentifier : []).map((n) =>
        isObject(n) ? text(n.legalPersonName) : '',
      )
    : arrayOf(natural?.name).flatMap((name) =>
        arrayOf(isObject(name) ? name.nameIdentifier : []).map((n) =>
          isObject(n) ? [text(n.secondaryIdentifier), text(n.primaryIdentifier)].join(' ') : '',
        ),
      );
  const entity = legal ?? natural ?? {};
  const id = isObject(entity.nationalIdentification) ? entity.nationalIdentification : null;
  const address = arrayOf(entity.geographicAddress).find(isObject);
  return {
    role,
    name: names.filter(Boolean).join(' / '),
    country: text(entity.countryOfRegistration) || text(entity.countryOfResidence),
    identifier: id
      ? `${text(id.nationalIdentifierType)} ${text(id.nationalIdentifier)}${id.registrationAuthority ? ` (${text(id.registrationAuthority)})` : ''}`
      : '',
    customerNumber: text(entity.customerNumber) || text(entity.customerIdentification),
    address: address
      ? [
          [text(address.streetName), text(address.buildingNumber)].filter(Boolean).join(' '),
          ...arrayOf(address.addressLine).map(text),
          [text(address.postcode), text(address.townName)].filter(Boolean).join(' '),
          text(address.country),
        ]
          .filter(Boolean)
          .join(', ')
      : '',
  };
}

/** The people of an IVMS101 payload, one row each (as the gate received them). */
export function travelRuleRows(payload: Record<string, unknown>): PersonRow[] {
  const originator = isObject(payload.originator) ? payload.originator : {};
  const beneficiary = isObject(payload.beneficiary) ? payload.beneficiary : {};
  const originating = isObject(payload.originatingVASP) ? payload.originatingVASP : {};
  const beneficiaryVasp = isObject(payload.beneficiaryVASP) ? payload.beneficiaryVASP : {};
  return [
    ...arrayOf(originator.originatorPersons).map((p) => personRow('Originator', p)),
    ...arrayOf(beneficiary.beneficiaryPersons).map((p) => personRow('Beneficiary', p)),
    ...(originating.originatingVASP
      ? [personRow('Originating VASP', originating.originatingVASP)]
      : []),
    ...(beneficiaryVasp.beneficiaryVASP
      ? [personRow('Beneficiary VASP', beneficiaryVasp.beneficiaryVASP)]
      : []),
  ];
}

/** The Travel Rule data of an invoice or payout, or a line saying there is none. */
export function TravelRuleView({ payload }: { payload: Record<string, unknown> | null }) {
  if (!payload)
    return (
      <Text size="sm" data-testid="travel-rule-none">
        No Travel Rule data was supplied (not required below the scheme&apos;s threshold).
      </Text>
    );
  return (
    <Table data-testid="travel-rule">
      <Table.Caption>Travel Rule data (IVMS101)</Table.Caption>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Role</Table.Th>
          <Table.Th>Legal name</Table.Th>
          <Table.Th>Country</Table.Th>
          <Table.Th>Identifier</Table.Th>
          <Table.Th>Customer number</Table.Th>
          <Table.Th>Address</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {travelRuleRows(payload).map((row, i) => (
          <Table.Tr key={i}>
            <Table.Th scope="row">{row.role}</Table.Th>
            <Table.Td>{row.name}</Table.Td>
            <Table.Td>{row.country}</Table.Td>
            <Table.Td>{row.identifier}</Table.Td>
            <Table.Td>{row.customerNumber}</Table.Td>
            <Table.Td>{row.address}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
