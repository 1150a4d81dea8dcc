/**
 * IVMS101 (interVASP Messaging Standard, 2020 edition) in the browser: the payload types the
 * Travel Rule forms build, and the same checks the policy gate makes before it accepts one
 * (element lengths of section 5 and the constraints C1–C11 of section 6; C12 concerns transfer
 * paths, which the forms do not build). Messages are the gate's, so that what the form says at a
 * field is what the gate would have said. Pure: no DOM, no React.
 */
// The country list and the LEI check are the server's own files (they import nothing that needs
// Node), so the form and the gate cannot disagree about a code.
import { isCountryCode } from '../../../src/kernel/countries';
import { isValidLei } from '../../../src/kernel/lei';

/** 5.2.7 NationalIdentifierTypeCode (a restriction of ISO 20022 TypeOfIdentification4Code). */
export type NationalIdentifierType =
  'ARNU' | 'CCPT' | 'RAID' | 'DRLC' | 'FIIN' | 'TXID' | 'SOCS' | 'IDCD' | 'LEIX' | 'MISC';

export interface Ivms101Address {
  addressType: 'HOME' | 'BIZZ' | 'GEOG';
  streetName?: string;
  buildingNumber?: string;
  buildingName?: string;
  postcode?: string;
  townName: string;
  addressLine?: string[];
  country: string;
}

export interface Ivms101NationalIdentification {
  nationalIdentifier: string;
  nationalIdentifierType: NationalIdentifierType;
  countryOfIssue?: string;
  registrationAuthority?: string;
}

export interface Ivms101NaturalPerson {
  name: {
    nameIdentifier: {
      primaryIdentifier: string;
      secondaryIdentifier?: string;
      nameIdentifierType: 'ALIA' | 'BIRT' | 'MAID' | 'LEGL' | 'MISC';
    }[];
  }[];
  geographicAddress?: Ivms101Address[];
  nationalIdentification?: Ivms101NationalIdentification;
  customerIdentification?: string;
  dateAndPlaceOfBirth?: { dateOfBirth: string; placeOfBirth: string };
  countryOfResidence?: string;
}

export interface Ivms101LegalPerson {
  name: {
    nameIdentifier: {
      legalPersonName: string;
      legalPersonNameIdentifierType: 'LEGL' | 'SHRT' | 'TRAD';
    }[];
  };
  geographicAddress?: Ivms101Address[];
  customerNumber?: string;
  nationalIdentification?: Ivms101NationalIdentification;
  countryOfRegistration?: string;
}

/** 5.2.1 Person: exactly one of naturalPerson or legalPerson. */
export type Ivms101Person =
  | { naturalPerson: Ivms101NaturalPerson; legalPerson?: never }
  | { legalPerson: Ivms101LegalPerson; naturalPerson?: never };

/** The payload (a type alias, not an interface, so that it is a JSON object to the API client). */
export type Ivms101Payload = {
  originator: { originatorPersons: Ivms101Person[] };
  beneficiary: { beneficiaryPersons: Ivms101Person[] };
  originatingVASP: { originatingVASP: Ivms101Person };
  beneficiaryVASP?: { beneficiaryVASP: Ivms101Person };
};

export interface Ivms101Issue {
  /** Dotted path in the payload, as the gate names it: `beneficiary.beneficiaryPersons.0.naturalPerson`. */
  field: string;
  constraint:
    'schema' | 'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6' | 'C7' | 'C8' | 'C9' | 'C10' | 'C11';
  message: string;
}

/** An ISO 8601 calendar date (YYYY-MM-DD) that exists. */
function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/**
 * Every issue of a payload the forms built, in the order the gate finds them: element lengths
 * first (a structural failure stops there, as on the gate), then C1–C11. `today` is the date C2
 * compares a date of birth with, in UTC.
 */
export function validateIvms101(payload: Ivms101Payload, today: Date): Ivms101Issue[] {
  const structural = structureIssues(payload);
  return structural.length > 0 ? structural : constraintIssues(payload, today);
}

function people(payload: Ivms101Payload): { person: Ivms101Person; at: string; role: string }[] {
  return [
    ...payload.originator.originatorPersons.map((person, i) => ({
      person,
      at: `originator.originatorPersons.${i}`,
      role: 'originator',
    })),
    ...payload.beneficiary.beneficiaryPersons.map((person, i) => ({
      person,
      at: `beneficiary.beneficiaryPersons.${i}`,
      role: 'other',
    })),
    {
      person: payload.originatingVASP.originatingVASP,
      at: 'originatingVASP.originatingVASP',
      role: 'other',
    },
    ...(payload.beneficiaryVASP
      ? [
          {
            person: payload.beneficiaryVASP.beneficiaryVASP,
            at: 'beneficiaryVASP.beneficiaryVASP',
            role: 'other',
          },
        ]
      : []),
  ];
}

// ---------------------------------------------------------------- structure (section 5)

function structureIssues(payload: Ivms101Payload): Ivms101Issue[] {
  const issues: Ivms101Issue[] = [];
  const text = (value: string | undefined, max: number, field: string) => {
    if (value === undefined) return;
    const length = value.trim().length;
    if (length === 0)
      issues.push({
        field,
        constraint: 'schema',
        message: 'Too small: expected string to have >=1 characters',
      });
    else if (length > max)
      issues.push({
        field,
        constraint: 'schema',
        message: `Too big: expected string to have <=${max} characters`,
      });
  };
  const address = (a: Ivms101Address, at: string) => {
    text(a.streetName, 70, `${at}.streetName`);
    text(a.buildingNumber, 16, `${at}.buildingNumber`);
    text(a.buildingName, 35, `${at}.buildingName`);
    text(a.postcode, 16, `${at}.postcode`);
    text(a.townName, 35, `${at}.townName`);
    a.addressLine?.forEach((line, i) => text(line, 70, `${at}.addressLine.${i}`));
    if ((a.addressLine?.length ?? 0) > 7)
      issues.push({
        field: `${at}.addressLine`,
        constraint: 'schema',
        message: 'Too big: expected array to have <=7 items',
      });
  };
  const identification = (ni: Ivms101NationalIdentification | undefined, at: string) => {
    if (ni) text(ni.nationalIdentifier, 35, `${at}.nationalIdentifier`);
  };
  for (const { person, at } of people(payload)) {
    if (person.naturalPerson) {
      const np = person.naturalPerson;
      const base = `${at}.naturalPerson`;
      np.name.forEach((name, i) =>
        name.nameIdentifier.forEach((n, j) => {
          const where = `${base}.name.${i}.nameIdentifier.${j}`;
          text(n.primaryIdentifier, 100, `${where}.primaryIdentifier`);
          text(n.secondaryIdentifier, 100, `${where}.secondaryIdentifier`);
        }),
      );
      np.geographicAddress?.forEach((a, i) => address(a, `${base}.geographicAddress.${i}`));
      identification(np.nationalIdentification, `${base}.nationalIdentification`);
      text(np.customerIdentification, 50, `${base}.customerIdentification`);
      if (np.dateAndPlaceOfBirth) {
        const where = `${base}.dateAndPlaceOfBirth`;
        if (!isIsoDate(np.dateAndPlaceOfBirth.dateOfBirth))
          issues.push({
            field: `${where}.dateOfBirth`,
            constraint: 'schema',
            message: 'Invalid ISO date',
          });
        text(np.dateAndPlaceOfBirth.placeOfBirth, 70, `${where}.placeOfBirth`);
      }
    } else {
      const lp = person.legalPerson;
      const base = `${at}.legalPerson`;
      lp.name.nameIdentifier.forEach((n, i) =>
        text(n.legalPersonName, 100, `${base}.name.nameIdentifier.${i}.legalPersonName`),
      );
      lp.geographicAddress?.forEach((a, i) => address(a, `${base}.geographicAddress.${i}`));
      text(lp.customerNumber, 50, `${base}.customerNumber`);
      identification(lp.nationalIdentification, `${base}.nationalIdentification`);
    }
  }
  return issues;
}

// ---------------------------------------------------------------- constraints (section 6)

function constraintIssues(payload: Ivms101Payload, today: Date): Ivms101Issue[] {
  const issues: Ivms101Issue[] = [];
  const todayIso = today.toISOString().slice(0, 10);
  const country = (value: string, field: string) => {
    if (value !== 'XX' && !isCountryCode(value))
      issues.push({
        field,
        constraint: 'C3',
        message: `must be an ISO 3166-1 alpha-2 country code or XX, got "${value}" (IVMS101 C3 ValidCountryCode)`,
      });
  };
  const address = (a: Ivms101Address, at: string) => {
    country(a.country, `${at}.country`);
    const structured =
      a.streetName !== undefined &&
      (a.buildingName !== undefined || a.buildingNumber !== undefined);
    if ((a.addressLine?.length ?? 0) === 0 && !structured)
      issues.push({
        field: at,
        constraint: 'C8',
        message:
          'an address needs an addressLine or a streetName with buildingName and/or buildingNumber (IVMS101 C8 ValidAddress)',
      });
  };
  const registrationAuthority = (ni: Ivms101NationalIdentification, at: string) => {
    if (ni.registrationAuthority !== undefined && !/^RA\d{6}$/.test(ni.registrationAuthority))
      issues.push({
        field: `${at}.registrationAuthority`,
        constraint: 'C10',
        message: `must be a GLEIF Registration Authorities List code like RA000001, got "${ni.registrationAuthority}" (IVMS101 C10 RegistrationAuthority)`,
      });
  };
  const lei = (ni: Ivms101NationalIdentification, at: string) => {
    if (ni.nationalIdentifierType === 'LEIX' && !isValidLei(ni.nationalIdentifier))
      issues.push({
        field: `${at}.nationalIdentifier`,
        constraint: 'C11',
        message: `"${ni.nationalIdentifier}" is not a valid LEI (ISO 17442 check digits) (IVMS101 C11 ValidLEI)`,
      });
  };
  for (const { person, at, role } of people(payload)) {
    if (person.naturalPerson) {
      const np = person.naturalPerson;
      const base = `${at}.naturalPerson`;
      // C1 OriginatorInformationNaturalPerson
      if (
        role === 'originator' &&
        (np.geographicAddress?.length ?? 0) === 0 &&
        np.customerIdentification === undefined &&
        np.nationalIdentification === undefined &&
        np.dateAndPlaceOfBirth === undefined
      )
        issues.push({
          field: base,
          constraint: 'C1',
          message:
            'an originator natural person needs a geographicAddress, customerIdentification, nationalIdentification or dateAndPlaceOfBirth (IVMS101 C1 OriginatorInformationNaturalPerson)',
        });
      // C2 DateInPast
      const dob = np.dateAndPlaceOfBirth?.dateOfBirth;
      if (dob !== undefined && !(dob < todayIso))
        issues.push({
          field: `${base}.dateAndPlaceOfBirth.dateOfBirth`,
          constraint: 'C2',
          message: `dateOfBirth must be before today (${todayIso}), got ${dob} (IVMS101 C2 DateInPast)`,
        });
      // C6 LegalNamePresent
      if (!np.name.some((name) => name.nameIdentifier.some((n) => n.nameIdentifierType === 'LEGL')))
        issues.push({
          field: `${base}.name`,
          constraint: 'C6',
          message:
            'at least one nameIdentifier must have nameIdentifierType LEGL (IVMS101 C6 LegalNamePresent)',
        });
      np.geographicAddress?.forEach((a, i) => address(a, `${base}.geographicAddress.${i}`));
      if (np.countryOfResidence !== undefined)
        country(np.countryOfResidence, `${base}.countryOfResidence`);
      if (np.nationalIdentification) {
        const ni = np.nationalIdentification;
        const where = `${base}.nationalIdentification`;
        if (ni.countryOfIssue !== undefined) country(ni.countryOfIssue, `${where}.countryOfIssue`);
        registrationAuthority(ni, where);
        lei(ni, where);
      }
    } else {
      const lp = person.legalPerson;
      const base = `${at}.legalPerson`;
      // C4 OriginatorInformationLegalPerson
      if (
        role === 'originator' &&
        !(lp.geographicAddress ?? []).some((a) => a.addressType === 'GEOG') &&
        lp.nationalIdentification === undefined &&
        lp.customerNumber === undefined
      )
        issues.push({
          field: base,
          constraint: 'C4',
          message:
            'an originator legal person needs a GEOG geographicAddress, nationalIdentification or customerNumber (IVMS101 C4 OriginatorInformationLegalPerson)',
        });
      // C5 LegalNamePresentLegalPerson
      if (!lp.name.nameIdentifier.some((n) => n.legalPersonNameIdentifierType === 'LEGL'))
        issues.push({
          field: `${base}.name.nameIdentifier`,
          constraint: 'C5',
          message:
            'at least one legalPersonNameIdentifier must have type LEGL (IVMS101 C5 LegalNamePresentLegalPerson)',
        });
      lp.geographicAddress?.forEach((a, i) => address(a, `${base}.geographicAddress.${i}`));
      if (lp.countryOfRegistration !== undefined)
        country(lp.countryOfRegistration, `${base}.countryOfRegistration`);
      if (lp.nationalIdentification) {
        const ni = lp.nationalIdentification;
        const where = `${base}.nationalIdentification`;
        // C7 ValidNationalIdentifierLegalPerson
        if (!['RAID', 'MISC', 'LEIX', 'TXID'].includes(ni.nationalIdentifierType))
          issues.push({
            field: `${where}.nationalIdentifierType`,
            constraint: 'C7',
            message: `a legal person's nationalIdentifierType must be RAID, MISC, LEIX or TXID, got ${ni.nationalIdentifierType} (IVMS101 C7 ValidNationalIdentifierLegalPerson)`,
          });
        // C9 CompleteNationalIdentifierLegalPerson
        if (ni.countryOfIssue !== undefined)
          issues.push({
            field: `${where}.countryOfIssue`,
            constraint: 'C9',
            message:
              "a legal person's nationalIdentification must not have a countryOfIssue (IVMS101 C9 CompleteNationalIdentifierLegalPerson)",
          });
        if (ni.nationalIdentifierType !== 'LEIX' && ni.registrationAuthority === undefined)
          issues.push({
            field: `${where}.registrationAuthority`,
            constraint: 'C9',
            message: `a legal person's ${ni.nationalIdentifierType} identifier needs a registrationAuthority (IVMS101 C9 CompleteNationalIdentifierLegalPerson)`,
          });
        registrationAuthority(ni, where);
        lei(ni, where);
      }
    }
  }
  return issues;
}
