import {
  Button,
  Fieldset,
  Group,
  Radio,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import type { components } from '../api/schema';
import { CountryPicker } from './CountryPicker';
import type { NationalIdentifierType } from './ivms101';

/**
 * Travel Rule (FATF Recommendation 16) data in IVMS101 form, for the invoice and payout forms,
 * and its display on their detail pages. The scheme's companies are legal persons; a foreign
 * counterparty is a legal person or, as a sole trader, a natural person (IVMS101 5.2.1 Person is
 * one or the other). The form checks the payload as the policy gate does (structure and the
 * constraints C1–C11 of IVMS101, see ./ivms101) before sending it, and the gate checks it again.
 */

type Participant = components['schemas']['Participant'];
export type PersonType = Participant['personType'];

/** IVMS101 5.2.7 identifier types a legal person may carry (constraint C7). */
const LEGAL_IDENTIFIER_TYPES: readonly { value: NationalIdentifierType; label: string }[] = [
  { value: 'LEIX', label: 'LEI' },
  { value: 'RAID', label: 'Registration number' },
  { value: 'TXID', label: 'Tax number' },
  { value: 'MISC', label: 'Other' },
];

/**
 * IVMS101 5.2.7 identifier types for a natural person. A sole trader may also be in a trade
 * register (RAID) or hold an LEI (ISO 17442 admits sole traders).
 */
const NATURAL_IDENTIFIER_TYPES: readonly { value: NationalIdentifierType; label: string }[] = [
  { value: 'CCPT', label: 'Passport number' },
  { value: 'IDCD', label: 'National identity card number' },
  { value: 'DRLC', label: 'Driver’s licence number' },
  { value: 'TXID', label: 'Tax number' },
  { value: 'SOCS', label: 'Social security number' },
  { value: 'ARNU', label: 'Alien registration number' },
  { value: 'FIIN', label: 'Foreign investment identity number' },
  { value: 'RAID', label: 'Trade register number' },
  { value: 'LEIX', label: 'LEI' },
  { value: 'MISC', label: 'Other' },
];

const identifierTypesOf = (personType: PersonType) =>
  personType === 'natural' ? NATURAL_IDENTIFIER_TYPES : LEGAL_IDENTIFIER_TYPES;

export const PERSON_TYPE_LABELS: Record<PersonType, string> = {
  legal: 'Legal person (company)',
  natural: 'Natural person (sole trader)',
};

/** One side of a transfer (originator or beneficiary), as typed in the form. */
export interface PersonForm {
  personType: PersonType;
  /** A legal person's legal name (IVMS101 legalPersonName, type LEGL). */
  name: string;
  /** A natural person's last name (IVMS101 primaryIdentifier, type LEGL). */
  lastName: string;
  /** A natural person's first names (IVMS101 secondaryIdentifier). */
  firstNames: string;
  /** ISO 3166-1 alpha-2: country of registration (legal person) or of residence (natural). */
  country: string;
  identifierType: NationalIdentifierType;
  identifier: string;
  /** GLEIF Registration Authorities List code (RA000001 …), for identifiers other than an LEI. */
  registrationAuthority: string;
  /** A natural person's identifier: the country that issued it (optional). */
  identifierCountry: string;
  /**
   * The person's number at its VASP (customerNumber of a legal person, customerIdentification of
   * a natural one): one way to satisfy IVMS101 C4 / C1 for an originator.
   */
  customerNumber: string;
  /** A natural person's date (YYYY-MM-DD) and place of birth, given together. */
  dateOfBirth: string;
  placeOfBirth: string;
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
  originator: PersonForm;
  beneficiary: PersonForm;
  originatingVasp: VaspForm;
  beneficiaryVasp: VaspForm;
}

export const emptyPerson = (personType: PersonType = 'legal'): PersonForm => ({
  personType,
  name: '',
  lastName: '',
  firstNames: '',
  country: '',
  identifierType: personType === 'natural' ? 'CCPT' : 'LEIX',
  identifier: '',
  registrationAuthority: '',
  identifierCountry: '',
  customerNumber: '',
  dateOfBirth: '',
  placeOfBirth: '',
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

/**
 * A natural person's registered name split into IVMS101's parts: the last word is taken as the
 * last name (primaryIdentifier), the words before it as the first names. The registry keeps one
 * name, so the form shows the split for the officer to correct (e.g. "María de la Cruz").
 */
export function splitNaturalName(fullName: string): { lastName: string; firstNames: string } {
  const words = fullName.trim().split(/\s+/).filter(Boolean);
  return { lastName: words.at(-1) ?? '', firstNames: words.slice(0, -1).join(' ') };
}

/**
 * A person as the registry knows it: name, country, LEI or registration number, first postal
 * address; a counterparty registered as a natural person (sole trader) becomes one here too.
 */
export function personFromRegistry(p: Participant | undefined): PersonForm {
  if (!p) return emptyPerson();
  const address = p.addresses[0];
  const common = {
    country: p.country,
    identifierType: p.lei ? ('LEIX' as const) : p.registrationNumber ? ('RAID' as const) : null,
    identifier: p.lei ?? p.registrationNumber ?? '',
    street: address?.lines.join(', ') ?? '',
    postcode: address?.postalCode ?? '',
    town: address?.city ?? '',
    addressCountry: address?.country ?? '',
  };
  const base = emptyPerson(p.personType);
  return {
    ...base,
    ...common,
    identifierType: common.identifierType ?? base.identifierType,
    ...(p.personType === 'natural' ? splitNaturalName(p.legalName) : { name: p.legalName }),
  };
}

/** The same person as the other kind (the officer changed the person type in the form). */
export function withPersonType(p: PersonForm, personType: PersonType): PersonForm {
  if (p.personType === personType) return p;
  const allowed = identifierTypesOf(personType).some((t) => t.value === p.identifierType);
  const fullName = [p.firstNames.trim(), p.lastName.trim()].filter(Boolean).join(' ');
  return {
    ...p,
    personType,
    identifierType: allowed ? p.identifierType : emptyPerson(personType).identifierType,
    ...(personType === 'natural' && !p.lastName.trim() ? splitNaturalName(p.name) : {}),
    ...(personType === 'legal' && !p.name.trim() ? { name: fullName } : {}),
  };
}

export { toIvms101, travelRuleErrors, formFieldOf } from './travelRulePayload';
export { PersonTypeBadge, TravelRuleView, travelRuleRows } from './TravelRuleView';

// ---------------------------------------------------------------- fields

function PersonFields({
  legend,
  prefix,
  value,
  onChange,
  errors,
  originator,
  choosePersonType,
}: {
  legend: string;
  prefix: 'originator' | 'beneficiary';
  value: PersonForm;
  onChange: (value: PersonForm) => void;
  errors: Record<string, string>;
  originator: boolean;
  /** The counterparty's side: a legal or a natural person (a company's side is always legal). */
  choosePersonType: boolean;
}) {
  const field = (
    key: Exclude<
      keyof PersonForm,
      'personType' | 'identifierType' | 'country' | 'identifierCountry' | 'addressCountry'
    >,
  ) => ({
    value: value[key],
    onChange: (e: { currentTarget: { value: string } }) =>
      onChange({ ...value, [key]: e.currentTarget.value }),
    error: errors[`${prefix}.${key}`],
  });
  const countryField = (key: 'country' | 'identifierCountry' | 'addressCountry') => ({
    value: value[key],
    onChange: (code: string) => onChange({ ...value, [key]: code }),
    error: errors[`${prefix}.${key}`],
  });
  const natural = value.personType === 'natural';
  const types = identifierTypesOf(value.personType);
  const identifierLabel =
    value.identifierType === 'LEIX'
      ? 'LEI'
      : natural
        ? (types.find((t) => t.value === value.identifierType)?.label.toLowerCase() ??
          'national identifier')
        : 'national identifier';
  return (
    <Fieldset legend={legend}>
      <Stack gap="sm">
        {choosePersonType && (
          <Radio.Group
            label={`${legend}: person type`}
            description="A sole trader is a natural person: the gate screens the name against listed individuals."
            value={value.personType}
            onChange={(v) => onChange(withPersonType(value, v))}
          >
            <Group mt={4}>
              <Radio value="legal" label={PERSON_TYPE_LABELS.legal} />
              <Radio value="natural" label={PERSON_TYPE_LABELS.natural} />
            </Group>
          </Radio.Group>
        )}
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {natural ? (
            <>
              <TextInput
                label={`${legend}: last name`}
                description="IVMS101 primary identifier"
                {...field('lastName')}
              />
              <TextInput
                label={`${legend}: first names`}
                description="IVMS101 secondary identifier"
                {...field('firstNames')}
              />
            </>
          ) : (
            <TextInput label={`${legend}: legal name`} {...field('name')} />
          )}
          <CountryPicker
            label={natural ? `${legend}: country of residence` : `${legend}: country`}
            {...countryField('country')}
          />
          <Select
            label={`${legend}: identifier type`}
            data={types.map((t) => ({ value: t.value, label: t.label }))}
            value={value.identifierType}
            onChange={(v) => v && onChange({ ...value, identifierType: v })}
            allowDeselect={false}
            error={errors[`${prefix}.identifierType`]}
          />
          <TextInput
            label={`${legend}: ${identifierLabel}`}
            {...(natural ? { description: 'Optional' } : {})}
            {...field('identifier')}
          />
          {natural && value.identifierType !== 'LEIX' && (
            <CountryPicker
              label={`${legend}: issuing country`}
              description="Of the identifier, optional"
              {...countryField('identifierCountry')}
            />
          )}
          {(natural ? value.identifierType === 'RAID' : value.identifierType !== 'LEIX') && (
            <TextInput
              label={`${legend}: registration authority`}
              description={
                natural ? 'GLEIF RA code, optional, e.g. RA000548' : 'GLEIF RA code, e.g. RA000548'
              }
              {...field('registrationAuthority')}
            />
          )}
          {originator && (
            <TextInput
              label={`${legend}: customer ${natural ? 'identification' : 'number'}`}
              description="At its VASP"
              {...field('customerNumber')}
            />
          )}
          {natural && (
            <>
              <TextInput
                type="date"
                label={`${legend}: date of birth`}
                description="Optional"
                {...field('dateOfBirth')}
              />
              <TextInput
                label={`${legend}: place of birth`}
                description="With the date of birth"
                {...field('placeOfBirth')}
              />
            </>
          )}
          <TextInput label={`${legend}: street`} {...field('street')} />
          <TextInput label={`${legend}: building number`} {...field('buildingNumber')} />
          <TextInput label={`${legend}: postcode`} {...field('postcode')} />
          <TextInput label={`${legend}: town`} {...field('town')} />
          <CountryPicker
            label={`${legend}: address country`}
            description={
              natural ? 'If not the country of residence' : 'If not the country of registration'
            }
            {...countryField('addressCountry')}
          />
        </SimpleGrid>
      </Stack>
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
  counterpartySide,
  onFillFromRegistry,
  beneficiaryVaspDescription,
}: {
  value: TravelRuleForm;
  onChange: (value: TravelRuleForm) => void;
  errors: Record<string, string>;
  originatorLegend: string;
  beneficiaryLegend: string;
  /** Which side is the foreign counterparty, who may be a natural person (a sole trader). */
  counterpartySide: 'originator' | 'beneficiary';
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
        choosePersonType={counterpartySide === 'originator'}
      />
      <PersonFields
        legend={beneficiaryLegend}
        prefix="beneficiary"
        value={value.beneficiary}
        onChange={(beneficiary) => onChange({ ...value, beneficiary })}
        errors={errors}
        originator={false}
        choosePersonType={counterpartySide === 'beneficiary'}
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
      {errors.travelRule && (
        <Text size="sm" c="red.8" role="alert" data-testid="travel-rule-error">
          {errors.travelRule}
        </Text>
      )}
    </>
  );
}
