import {
  Badge,
  Button,
  Fieldset,
  Group,
  Radio,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import type { components } from '../api/schema';
import {
  validateIvms101,
  type Ivms101Address,
  type Ivms101NationalIdentification,
  type Ivms101Payload,
  type Ivms101Person,
  type NationalIdentifierType,
} from './ivms101';

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

const trimmed = (value: string) => value.trim();

function hasAddress(p: PersonForm): boolean {
  return [p.street, p.buildingNumber, p.postcode, p.town].some((v) => trimmed(v) !== '');
}

// ---------------------------------------------------------------- IVMS101 payload

function geographicAddress(p: PersonForm): Ivms101Address[] | undefined {
  if (!hasAddress(p)) return undefined;
  const street = trimmed(p.street);
  const building = trimmed(p.buildingNumber);
  return [
    {
      // GEOG (IVMS101 5.2.5): the address a legal originator needs under C4.
      addressType: 'GEOG',
      // IVMS101 C8: a street with a building number, or else an address line.
      ...(building ? { streetName: street, buildingNumber: building } : { addressLine: [street] }),
      ...(trimmed(p.postcode) ? { postcode: trimmed(p.postcode) } : {}),
      townName: trimmed(p.town),
      country: (trimmed(p.addressCountry) || trimmed(p.country)).toUpperCase(),
    },
  ];
}

function legalPerson(p: PersonForm): Ivms101Person {
  const identifier = trimmed(p.identifier);
  const address = geographicAddress(p);
  const nationalIdentification: Ivms101NationalIdentification | undefined = identifier
    ? {
        nationalIdentifier: identifier,
        nationalIdentifierType: p.identifierType,
        // IVMS101 C9: a legal person's identifier other than an LEI names its register.
        ...(p.identifierType !== 'LEIX'
          ? { registrationAuthority: trimmed(p.registrationAuthority) }
          : {}),
      }
    : undefined;
  return {
    legalPerson: {
      name: {
        nameIdentifier: [
          { legalPersonName: trimmed(p.name), legalPersonNameIdentifierType: 'LEGL' },
        ],
      },
      ...(address ? { geographicAddress: address } : {}),
      ...(trimmed(p.customerNumber) ? { customerNumber: trimmed(p.customerNumber) } : {}),
      ...(nationalIdentification ? { nationalIdentification } : {}),
      countryOfRegistration: trimmed(p.country).toUpperCase(),
    },
  };
}

/**
 * A natural person (IVMS101 5.2.3): the legal name (C6) as last name (primaryIdentifier) and
 * first names (secondaryIdentifier), the country of residence, and what else is known.
 */
function naturalPerson(p: PersonForm): Ivms101Person {
  const identifier = trimmed(p.identifier);
  const firstNames = trimmed(p.firstNames);
  const address = geographicAddress(p);
  const authority = trimmed(p.registrationAuthority);
  const issuedBy = trimmed(p.identifierCountry).toUpperCase();
  const born = trimmed(p.dateOfBirth) || trimmed(p.placeOfBirth);
  return {
    naturalPerson: {
      name: [
        {
          nameIdentifier: [
            {
              primaryIdentifier: trimmed(p.lastName),
              ...(firstNames ? { secondaryIdentifier: firstNames } : {}),
              nameIdentifierType: 'LEGL',
            },
          ],
        },
      ],
      ...(address ? { geographicAddress: address } : {}),
      ...(identifier
        ? {
            nationalIdentification: {
              nationalIdentifier: identifier,
              nationalIdentifierType: p.identifierType,
              ...(issuedBy && p.identifierType !== 'LEIX' ? { countryOfIssue: issuedBy } : {}),
              ...(authority && p.identifierType === 'RAID'
                ? { registrationAuthority: authority }
                : {}),
            },
          }
        : {}),
      ...(trimmed(p.customerNumber) ? { customerIdentification: trimmed(p.customerNumber) } : {}),
      ...(born
        ? {
            dateAndPlaceOfBirth: {
              dateOfBirth: trimmed(p.dateOfBirth),
              placeOfBirth: trimmed(p.placeOfBirth),
            },
          }
        : {}),
      countryOfResidence: trimmed(p.country).toUpperCase(),
    },
  };
}

const person = (p: PersonForm): Ivms101Person =>
  p.personType === 'natural' ? naturalPerson(p) : legalPerson(p);

function vasp(v: VaspForm): Ivms101Person {
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
export function toIvms101(form: TravelRuleForm): Ivms101Payload {
  return {
    originator: { originatorPersons: [person(form.originator)] },
    beneficiary: { beneficiaryPersons: [person(form.beneficiary)] },
    originatingVASP: { originatingVASP: vasp(form.originatingVasp) },
    ...(trimmed(form.beneficiaryVasp.name)
      ? { beneficiaryVASP: { beneficiaryVASP: vasp(form.beneficiaryVasp) } }
      : {}),
  };
}

// ---------------------------------------------------------------- errors

const SIDES: Record<string, 'originator' | 'beneficiary' | 'originatingVasp' | 'beneficiaryVasp'> =
  {
    'originator.originatorPersons.0': 'originator',
    'beneficiary.beneficiaryPersons.0': 'beneficiary',
    'originatingVASP.originatingVASP': 'originatingVasp',
    'beneficiaryVASP.beneficiaryVASP': 'beneficiaryVasp',
  };

/** The form field (`beneficiary.lastName`) an IVMS101 payload path belongs to. */
export function formFieldOf(path: string, form: TravelRuleForm): string | undefined {
  const match =
    /^(originator\.originatorPersons\.0|beneficiary\.beneficiaryPersons\.0|originatingVASP\.originatingVASP|beneficiaryVASP\.beneficiaryVASP)\.(naturalPerson|legalPerson)(?:\.(.*))?$/.exec(
      path,
    );
  const side = match?.[1] ? SIDES[match[1]] : undefined;
  if (!match || !side) return undefined;
  const rest = match[3] ?? '';
  if (side === 'originatingVasp' || side === 'beneficiaryVasp')
    return `${side}.${rest.startsWith('nationalIdentification') ? 'lei' : 'name'}`;
  const p = form[side];
  const natural = match[2] === 'naturalPerson';
  const key = (() => {
    // C1/C4 concern the person as a whole: shown at the identifier, the first way to satisfy them.
    if (rest === '') return 'identifier';
    if (rest.startsWith('name'))
      return !natural ? 'name' : rest.endsWith('secondaryIdentifier') ? 'firstNames' : 'lastName';
    if (rest.startsWith('geographicAddress')) {
      if (/\.(streetName|addressLine(\.\d+)?)$/.test(rest) || /^geographicAddress\.\d+$/.test(rest))
        return 'street';
      if (rest.endsWith('.buildingNumber')) return 'buildingNumber';
      if (rest.endsWith('.postcode')) return 'postcode';
      if (rest.endsWith('.townName')) return 'town';
      if (rest.endsWith('.country'))
        return trimmed(p.addressCountry) ? 'addressCountry' : 'country';
      return 'street';
    }
    if (rest.startsWith('nationalIdentification')) {
      if (rest.endsWith('.registrationAuthority')) return 'registrationAuthority';
      if (rest.endsWith('.countryOfIssue')) return 'identifierCountry';
      if (rest.endsWith('.nationalIdentifierType')) return 'identifierType';
      return 'identifier';
    }
    if (rest === 'customerNumber' || rest === 'customerIdentification') return 'customerNumber';
    if (rest === 'countryOfRegistration' || rest === 'countryOfResidence') return 'country';
    if (rest.endsWith('.dateOfBirth')) return 'dateOfBirth';
    if (rest.endsWith('.placeOfBirth')) return 'placeOfBirth';
    return 'identifier';
  })();
  return `${side}.${key}`;
}

/**
 * Field errors found before sending: what the form requires (names, countries, the originator's
 * VASP), then every issue the gate would find in the payload (IVMS101 lengths and C1–C11), each
 * at its field. `travelRule` holds an issue no field shows. `today` is for C2 (date of birth).
 */
export function travelRuleErrors(form: TravelRuleForm, today = new Date()): Record<string, string> {
  const errors: Record<string, string> = {};
  const person = (key: 'originator' | 'beneficiary', p: PersonForm) => {
    if (p.personType === 'natural') {
      if (!trimmed(p.lastName))
        errors[`${key}.lastName`] = 'the last name is required (IVMS101 primaryIdentifier)';
      if (trimmed(p.dateOfBirth) && !trimmed(p.placeOfBirth))
        errors[`${key}.placeOfBirth`] = 'the place of birth goes with the date of birth';
      if (trimmed(p.placeOfBirth) && !trimmed(p.dateOfBirth))
        errors[`${key}.dateOfBirth`] = 'the date of birth goes with the place of birth';
    } else if (!trimmed(p.name)) {
      errors[`${key}.name`] = 'the legal name is required';
    }
    if (!/^[A-Za-z]{2}$/.test(trimmed(p.country)))
      errors[`${key}.country`] = 'an ISO 3166-1 two-letter country code, e.g. DE';
    if (p.personType === 'legal' && trimmed(p.identifier) && p.identifierType !== 'LEIX') {
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
  if (!trimmed(o.identifier) && !trimmed(o.customerNumber) && !hasAddress(o)) {
    if (o.personType === 'legal')
      errors['originator.identifier'] =
        'the originator needs an identifier, a customer number or an address (IVMS101 C4)';
    else if (!trimmed(o.dateOfBirth))
      errors['originator.identifier'] =
        'the originator needs an identifier, a customer number, an address or a date and place of birth (IVMS101 C1)';
  }
  if (!trimmed(form.originatingVasp.name))
    errors['originatingVasp.name'] = "the originator's VASP is required";
  // What the gate would say about the payload, at the fields that have no error yet.
  for (const issue of validateIvms101(toIvms101(form), today)) {
    const field = formFieldOf(issue.field, form) ?? 'travelRule';
    errors[field] ??= field === 'travelRule' ? `${issue.field}: ${issue.message}` : issue.message;
  }
  return errors;
}

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
  const field = (key: Exclude<keyof PersonForm, 'personType' | 'identifierType'>) => ({
    value: value[key],
    onChange: (e: { currentTarget: { value: string } }) =>
      onChange({ ...value, [key]: e.currentTarget.value }),
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
          <TextInput
            label={natural ? `${legend}: country of residence` : `${legend}: country`}
            description="ISO 3166-1, e.g. DE"
            maxLength={2}
            {...field('country')}
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
            <TextInput
              label={`${legend}: issuing country`}
              description="Of the identifier, optional (ISO 3166-1)"
              maxLength={2}
              {...field('identifierCountry')}
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
          <TextInput
            label={`${legend}: address country`}
            description={
              natural ? 'If not the country of residence' : 'If not the country of registration'
            }
            maxLength={2}
            {...field('addressCountry')}
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

// ---------------------------------------------------------------- display

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

interface PersonRow {
  role: string;
  personType: PersonType | null;
  name: string;
  /** A natural person's name parts, e.g. "last name Yan · first names Xiaobing". */
  nameParts: string;
  country: string;
  identifier: string;
  birth: string;
  customerNumber: string;
  address: string;
}

function personRow(role: string, person: unknown): PersonRow {
  const p = isObject(person) ? person : {};
  const legal = isObject(p.legalPerson) ? p.legalPerson : null;
  const natural = isObject(p.naturalPerson) ? p.naturalPerson : null;
  const naturalNames = arrayOf(natural?.name).flatMap((name) =>
    arrayOf(isObject(name) ? name.nameIdentifier : []).filter(isObject),
  );
  const names = legal
    ? arrayOf(isObject(legal.name) ? legal.name.nameIdentifier : []).map((n) =>
        isObject(n) ? text(n.legalPersonName) : '',
      )
    : naturalNames.map((n) =>
        [text(n.secondaryIdentifier), text(n.primaryIdentifier)].filter(Boolean).join(' '),
      );
  const entity = legal ?? natural ?? {};
  const id = isObject(entity.nationalIdentification) ? entity.nationalIdentification : null;
  const address = arrayOf(entity.geographicAddress).find(isObject);
  const birth = isObject(entity.dateAndPlaceOfBirth) ? entity.dateAndPlaceOfBirth : null;
  const residence = text(entity.countryOfResidence);
  return {
    role,
    personType: legal ? 'legal' : natural ? 'natural' : null,
    name: names.filter(Boolean).join(' / '),
    nameParts: naturalNames
      .map((n) =>
        [
          `last name ${text(n.primaryIdentifier)}`,
          text(n.secondaryIdentifier) ? `first names ${text(n.secondaryIdentifier)}` : '',
        ]
          .filter(Boolean)
          .join(' · '),
      )
      .join(' / '),
    country: text(entity.countryOfRegistration) || (residence ? `${residence} (residence)` : ''),
    identifier: id
      ? `${text(id.nationalIdentifierType)} ${text(id.nationalIdentifier)}${id.registrationAuthority ? ` (${text(id.registrationAuthority)})` : ''}${id.countryOfIssue ? `, issued by ${text(id.countryOfIssue)}` : ''}`
      : '',
    birth: birth ? `born ${text(birth.dateOfBirth)}, ${text(birth.placeOfBirth)}` : '',
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

/** "natural person" or "legal person", as a badge. */
export function PersonTypeBadge({ personType }: { personType: PersonType }) {
  return (
    <Badge
      variant="light"
      color={personType === 'natural' ? 'grape' : 'gray'}
      // Never cut to "NATU…" in a narrow table column: the badge is as wide as its words.
      styles={{ root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible' } }}
    >
      {personType === 'natural' ? 'natural person' : 'legal person'}
    </Badge>
  );
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
          <Table.Th>Person</Table.Th>
          <Table.Th>Name</Table.Th>
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
            <Table.Td>{row.personType && <PersonTypeBadge personType={row.personType} />}</Table.Td>
            <Table.Td>
              {row.name}
              {row.nameParts && <Text size="xs">{row.nameParts}</Text>}
            </Table.Td>
            <Table.Td>{row.country}</Table.Td>
            <Table.Td>
              {row.identifier}
              {row.birth && <Text size="xs">{row.birth}</Text>}
            </Table.Td>
            <Table.Td>{row.customerNumber}</Table.Td>
            <Table.Td>{row.address}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
