import {
  validateIvms101,
  type Ivms101Address,
  type Ivms101NationalIdentification,
  type Ivms101Payload,
  type Ivms101Person,
} from './ivms101';
import type { PersonForm, TravelRuleForm, VaspForm } from './TravelRule';

/**
 * The Travel Rule form as IVMS101: the payload it sends, and the errors it shows before sending
 * (each issue the gate would find, at its field).
 */

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
