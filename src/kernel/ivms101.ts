/**
 * The interVASP Messaging Standard IVMS101 (2020 edition, the data model the FATF Travel Rule
 * messages use): the structure as zod schemas (section 5 of the standard, element names as in its
 * JSON binding) and the constraints C1–C12 of section 6, each checked by a named function below.
 *
 * The schemas check structure, code lists and lengths; the constraints that relate several
 * elements are checked afterwards so that every failure names the constraint and the field.
 */
import { z } from 'zod';
import { isCountryCode } from './countries';
import { isValidLei } from './lei';

/** 5.2.2 NaturalPersonNameTypeCode */
export const NATURAL_PERSON_NAME_TYPES = ['ALIA', 'BIRT', 'MAID', 'LEGL', 'MISC'] as const;
/** 5.2.9.2 LegalPersonNameTypeCode */
export const LEGAL_PERSON_NAME_TYPES = ['LEGL', 'SHRT', 'TRAD'] as const;
/** 5.2.5 AddressTypeCode */
export const ADDRESS_TYPES = ['HOME', 'BIZZ', 'GEOG'] as const;
/** 5.2.7 NationalIdentifierTypeCode (a restriction of ISO 20022 TypeOfIdentification4Code) */
export const NATIONAL_IDENTIFIER_TYPES = [
  'ARNU',
  'CCPT',
  'RAID',
  'DRLC',
  'FIIN',
  'TXID',
  'SOCS',
  'IDCD',
  'LEIX',
  'MISC',
] as const;
/** 5.2.16 TransliterationMethodCode */
export const TRANSLITERATION_METHODS = [
  'arab',
  'aran',
  'armn',
  'cyrs',
  'deva',
  'geor',
  'grek',
  'hani',
  'hebr',
  'kali',
  'kana',
  'kore',
  'thai',
  'othr',
] as const;

const max = (n: number) => z.string().trim().min(1).max(n);
/** Country codes are checked by constraint C3 (so the error names it), not by the schema. */
const countryCode = z.string();

const naturalPersonNameId = z
  .object({
    primaryIdentifier: max(100),
    secondaryIdentifier: max(100).optional(),
    nameIdentifierType: z.enum(NATURAL_PERSON_NAME_TYPES),
  })
  .strict();

const naturalPersonName = z
  .object({
    nameIdentifier: z.array(naturalPersonNameId).min(1),
    localNameIdentifier: z.array(naturalPersonNameId).optional(),
    phoneticNameIdentifier: z.array(naturalPersonNameId).optional(),
  })
  .strict();

const address = z
  .object({
    addressType: z.enum(ADDRESS_TYPES),
    department: max(50).optional(),
    subDepartment: max(70).optional(),
    streetName: max(70).optional(),
    buildingNumber: max(16).optional(),
    buildingName: max(35).optional(),
    floor: max(70).optional(),
    postBox: max(16).optional(),
    room: max(70).optional(),
    postcode: max(16).optional(),
    townName: max(35),
    townLocationName: max(35).optional(),
    districtName: max(35).optional(),
    countrySubDivision: max(35).optional(),
    addressLine: z.array(max(70)).max(7).optional(),
    country: countryCode,
  })
  .strict();

const nationalIdentification = z
  .object({
    nationalIdentifier: max(35),
    nationalIdentifierType: z.enum(NATIONAL_IDENTIFIER_TYPES),
    countryOfIssue: countryCode.optional(),
    registrationAuthority: z.string().optional(),
  })
  .strict();

const dateAndPlaceOfBirth = z
  .object({
    dateOfBirth: z.iso.date(),
    placeOfBirth: max(70),
  })
  .strict();

const naturalPerson = z
  .object({
    name: z.array(naturalPersonName).min(1),
    geographicAddress: z.array(address).optional(),
    nationalIdentification: nationalIdentification.optional(),
    customerIdentification: max(50).optional(),
    dateAndPlaceOfBirth: dateAndPlaceOfBirth.optional(),
    countryOfResidence: countryCode.optional(),
  })
  .strict();

const legalPersonNameId = z
  .object({
    legalPersonName: max(100),
    legalPersonNameIdentifierType: z.enum(LEGAL_PERSON_NAME_TYPES),
  })
  .strict();

const legalPerson = z
  .object({
    name: z
      .object({
        nameIdentifier: z.array(legalPersonNameId).min(1),
        localNameIdentifier: z.array(legalPersonNameId).optional(),
        phoneticNameIdentifier: z.array(legalPersonNameId).optional(),
      })
      .strict(),
    geographicAddress: z.array(address).optional(),
    customerNumber: max(50).optional(),
    nationalIdentification: nationalIdentification.optional(),
    countryOfRegistration: countryCode.optional(),
  })
  .strict();

/**
 * 5.2.1 Person: a choice of exactly one of naturalPerson or legalPerson. Modelled as an object
 * with both optional and a check, so that an error inside either names its exact field.
 */
const person = z
  .object({ naturalPerson: naturalPerson.optional(), legalPerson: legalPerson.optional() })
  .strict()
  .refine((p) => (p.naturalPerson === undefined) !== (p.legalPerson === undefined), {
    message: 'a person is exactly one of naturalPerson or legalPerson',
  });

export const ivms101Schema = z
  .object({
    originator: z
      .object({
        originatorPersons: z.array(person).min(1),
        accountNumber: z.array(max(100)).optional(),
      })
      .strict(),
    beneficiary: z
      .object({
        beneficiaryPersons: z.array(person).min(1),
        accountNumber: z.array(max(100)).optional(),
      })
      .strict(),
    originatingVASP: z.object({ originatingVASP: person }).strict(),
    beneficiaryVASP: z.object({ beneficiaryVASP: person.optional() }).strict().optional(),
    transferPath: z
      .object({
        transferPath: z.array(
          z.object({ intermediaryVASP: person, sequence: z.number().int().min(0) }).strict(),
        ),
      })
      .strict()
      .optional(),
    payloadMetadata: z
      .object({ transliterationMethod: z.array(z.enum(TRANSLITERATION_METHODS)).optional() })
      .strict()
      .optional(),
  })
  .strict();

export type Ivms101Payload = z.infer<typeof ivms101Schema>;
export type Ivms101Person = z.infer<typeof person>;
export type Ivms101NaturalPerson = z.infer<typeof naturalPerson>;
export type Ivms101LegalPerson = z.infer<typeof legalPerson>;
export type Ivms101Address = z.infer<typeof address>;
export type Ivms101NationalIdentification = z.infer<typeof nationalIdentification>;

export type Ivms101Constraint =
  'schema' | 'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6' | 'C7' | 'C8' | 'C9' | 'C10' | 'C11' | 'C12';

export interface Ivms101Issue {
  /** Dotted path in the payload, e.g. `originator.originatorPersons.0.naturalPerson`. */
  field: string;
  constraint: Ivms101Constraint;
  message: string;
}

export type Ivms101Validation =
  | { ok: true; payload: Ivms101Payload; issues: [] }
  | { ok: false; payload: null; issues: Ivms101Issue[] };

/**
 * Validates an IVMS101 payload: structure first (a structural failure stops there, as the
 * constraints need a well-formed tree), then every constraint C1–C12. `today` is the date
 * C2 (DateInPast) compares against, in UTC.
 */
export function validateIvms101(input: unknown, today: Date): Ivms101Validation {
  const parsed = ivms101Schema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      payload: null,
      issues: parsed.error.issues.map((issue) => ({
        field: issue.path.map(String).join('.') || '(payload)',
        constraint: 'schema',
        message: issue.message,
      })),
    };
  }
  const issues = checkConstraints(parsed.data, today);
  return issues.length === 0
    ? { ok: true, payload: parsed.data, issues: [] }
    : { ok: false, payload: null, issues };
}

/** Every constraint of IVMS101 section 6 over a structurally valid payload. */
export function checkConstraints(payload: Ivms101Payload, today: Date): Ivms101Issue[] {
  const issues: Ivms101Issue[] = [];
  const todayIso = today.toISOString().slice(0, 10);
  const visit = (p: Ivms101Person, at: string, role: 'originator' | 'other'): void => {
    if (p.naturalPerson) {
      const np = p.naturalPerson;
      const base = `${at}.naturalPerson`;
      if (role === 'originator') c1OriginatorInformationNaturalPerson(np, base, issues);
      c2DateInPast(np, base, todayIso, issues);
      c6LegalNamePresent(np, base, issues);
      np.geographicAddress?.forEach((a, i) => {
        c3ValidCountryCode(a.country, `${base}.geographicAddress.${i}.country`, issues);
        c8ValidAddress(a, `${base}.geographicAddress.${i}`, issues);
      });
      if (np.countryOfResidence !== undefined)
        c3ValidCountryCode(np.countryOfResidence, `${base}.countryOfResidence`, issues);
      if (np.nationalIdentification) {
        const ni = np.nationalIdentification;
        if (ni.countryOfIssue !== undefined)
          c3ValidCountryCode(
            ni.countryOfIssue,
            `${base}.nationalIdentification.countryOfIssue`,
            issues,
          );
        c10RegistrationAuthority(ni, `${base}.nationalIdentification`, issues);
        c11ValidLei(ni, `${base}.nationalIdentification`, issues);
      }
    } else if (p.legalPerson) {
      const lp = p.legalPerson;
      const base = `${at}.legalPerson`;
      if (role === 'originator') c4OriginatorInformationLegalPerson(lp, base, issues);
      c5LegalNamePresentLegalPerson(lp, base, issues);
      lp.geographicAddress?.forEach((a, i) => {
        c3ValidCountryCode(a.country, `${base}.geographicAddress.${i}.country`, issues);
        c8ValidAddress(a, `${base}.geographicAddress.${i}`, issues);
      });
      if (lp.countryOfRegistration !== undefined)
        c3ValidCountryCode(lp.countryOfRegistration, `${base}.countryOfRegistration`, issues);
      if (lp.nationalIdentification) {
        const ni = lp.nationalIdentification;
        const niAt = `${base}.nationalIdentification`;
        c7ValidNationalIdentifierLegalPerson(ni, niAt, issues);
        c9CompleteNationalIdentifierLegalPerson(ni, niAt, issues);
        c10RegistrationAuthority(ni, niAt, issues);
        c11ValidLei(ni, niAt, issues);
      }
    }
  };
  payload.originator.originatorPersons.forEach((p, i) =>
    visit(p, `originator.originatorPersons.${i}`, 'originator'),
  );
  payload.beneficiary.beneficiaryPersons.forEach((p, i) =>
    visit(p, `beneficiary.beneficiaryPersons.${i}`, 'other'),
  );
  visit(payload.originatingVASP.originatingVASP, 'originatingVASP.originatingVASP', 'other');
  if (payload.beneficiaryVASP?.beneficiaryVASP)
    visit(payload.beneficiaryVASP.beneficiaryVASP, 'beneficiaryVASP.beneficiaryVASP', 'other');
  payload.transferPath?.transferPath.forEach((step, i) =>
    visit(step.intermediaryVASP, `transferPath.transferPath.${i}.intermediaryVASP`, 'other'),
  );
  if (payload.transferPath) c12SequentialIntegrity(payload.transferPath.transferPath, issues);
  return issues;
}

/**
 * C1 OriginatorInformationNaturalPerson: if the originator is a NaturalPerson, either
 * geographicAddress, customerIdentification, nationalIdentification or dateAndPlaceOfBirth is
 * required.
 */
function c1OriginatorInformationNaturalPerson(
  np: Ivms101NaturalPerson,
  at: string,
  issues: Ivms101Issue[],
): void {
  const has =
    (np.geographicAddress?.length ?? 0) > 0 ||
    np.customerIdentification !== undefined ||
    np.nationalIdentification !== undefined ||
    np.dateAndPlaceOfBirth !== undefined;
  if (!has) {
    issues.push({
      field: at,
      constraint: 'C1',
      message:
        'an originator natural person needs a geographicAddress, customerIdentification, nationalIdentification or dateAndPlaceOfBirth (IVMS101 C1 OriginatorInformationNaturalPerson)',
    });
  }
}

/** C2 DateInPast: a dateOfBirth must be a historic date, before the current date. */
function c2DateInPast(
  np: Ivms101NaturalPerson,
  at: string,
  todayIso: string,
  issues: Ivms101Issue[],
): void {
  const dob = np.dateAndPlaceOfBirth?.dateOfBirth;
  if (dob !== undefined && !(dob < todayIso)) {
    issues.push({
      field: `${at}.dateAndPlaceOfBirth.dateOfBirth`,
      constraint: 'C2',
      message: `dateOfBirth must be before today (${todayIso}), got ${dob} (IVMS101 C2 DateInPast)`,
    });
  }
}

/** C3 ValidCountryCode: a country must be an ISO 3166-1 alpha-2 code or "XX". */
function c3ValidCountryCode(value: string, at: string, issues: Ivms101Issue[]): void {
  if (value !== 'XX' && !isCountryCode(value)) {
    issues.push({
      field: at,
      constraint: 'C3',
      message: `must be an ISO 3166-1 alpha-2 country code or XX, got "${value}" (IVMS101 C3 ValidCountryCode)`,
    });
  }
}

/**
 * C4 OriginatorInformationLegalPerson: if the originator is a LegalPerson, either a
 * geographicAddress with addressType GEOG, nationalIdentification or customerNumber is required.
 */
function c4OriginatorInformationLegalPerson(
  lp: Ivms101LegalPerson,
  at: string,
  issues: Ivms101Issue[],
): void {
  const has =
    (lp.geographicAddress ?? []).some((a) => a.addressType === 'GEOG') ||
    lp.nationalIdentification !== undefined ||
    lp.customerNumber !== undefined;
  if (!has) {
    issues.push({
      field: at,
      constraint: 'C4',
      message:
        'an originator legal person needs a GEOG geographicAddress, nationalIdentification or customerNumber (IVMS101 C4 OriginatorInformationLegalPerson)',
    });
  }
}

/** C5 LegalNamePresentLegalPerson: at least one legal person name of type LEGL. */
function c5LegalNamePresentLegalPerson(
  lp: Ivms101LegalPerson,
  at: string,
  issues: Ivms101Issue[],
): void {
  if (!lp.name.nameIdentifier.some((n) => n.legalPersonNameIdentifierType === 'LEGL')) {
    issues.push({
      field: `${at}.name.nameIdentifier`,
      constraint: 'C5',
      message:
        'at least one legalPersonNameIdentifier must have type LEGL (IVMS101 C5 LegalNamePresentLegalPerson)',
    });
  }
}

/** C6 LegalNamePresent: at least one natural person name identifier of type LEGL. */
function c6LegalNamePresent(np: Ivms101NaturalPerson, at: string, issues: Ivms101Issue[]): void {
  if (!np.name.some((name) => name.nameIdentifier.some((n) => n.nameIdentifierType === 'LEGL'))) {
    issues.push({
      field: `${at}.name`,
      constraint: 'C6',
      message:
        'at least one nameIdentifier must have nameIdentifierType LEGL (IVMS101 C6 LegalNamePresent)',
    });
  }
}

/** C7 ValidNationalIdentifierLegalPerson: a legal person's identifier is RAID, MISC, LEIX or TXID. */
function c7ValidNationalIdentifierLegalPerson(
  ni: Ivms101NationalIdentification,
  at: string,
  issues: Ivms101Issue[],
): void {
  if (!['RAID', 'MISC', 'LEIX', 'TXID'].includes(ni.nationalIdentifierType)) {
    issues.push({
      field: `${at}.nationalIdentifierType`,
      constraint: 'C7',
      message: `a legal person's nationalIdentifierType must be RAID, MISC, LEIX or TXID, got ${ni.nationalIdentifierType} (IVMS101 C7 ValidNationalIdentifierLegalPerson)`,
    });
  }
}

/** C8 ValidAddress: an addressLine, or a streetName with a buildingName and/or buildingNumber. */
function c8ValidAddress(a: Ivms101Address, at: string, issues: Ivms101Issue[]): void {
  const structured =
    a.streetName !== undefined && (a.buildingName !== undefined || a.buildingNumber !== undefined);
  if ((a.addressLine?.length ?? 0) === 0 && !structured) {
    issues.push({
      field: at,
      constraint: 'C8',
      message:
        'an address needs an addressLine or a streetName with buildingName and/or buildingNumber (IVMS101 C8 ValidAddress)',
    });
  }
}

/**
 * C9 CompleteNationalIdentifierLegalPerson: a legal person's national identification has no
 * countryOfIssue, and has a registrationAuthority unless its type is LEIX.
 */
function c9CompleteNationalIdentifierLegalPerson(
  ni: Ivms101NationalIdentification,
  at: string,
  issues: Ivms101Issue[],
): void {
  if (ni.countryOfIssue !== undefined) {
    issues.push({
      field: `${at}.countryOfIssue`,
      constraint: 'C9',
      message:
        "a legal person's nationalIdentification must not have a countryOfIssue (IVMS101 C9 CompleteNationalIdentifierLegalPerson)",
    });
  }
  if (ni.nationalIdentifierType !== 'LEIX' && ni.registrationAuthority === undefined) {
    issues.push({
      field: `${at}.registrationAuthority`,
      constraint: 'C9',
      message: `a legal person's ${ni.nationalIdentifierType} identifier needs a registrationAuthority (IVMS101 C9 CompleteNationalIdentifierLegalPerson)`,
    });
  }
}

/**
 * C10 RegistrationAuthority: the value must be on the GLEIF Registration Authorities List,
 * whose codes are "RA" and six digits (RA000001 …). The list itself is not bundled, so the
 * code's form is checked.
 */
function c10RegistrationAuthority(
  ni: Ivms101NationalIdentification,
  at: string,
  issues: Ivms101Issue[],
): void {
  if (ni.registrationAuthority !== undefined && !/^RA\d{6}$/.test(ni.registrationAuthority)) {
    issues.push({
      field: `${at}.registrationAuthority`,
      constraint: 'C10',
      message: `must be a GLEIF Registration Authorities List code like RA000001, got "${ni.registrationAuthority}" (IVMS101 C10 RegistrationAuthority)`,
    });
  }
}

/** C11 ValidLEI: an LEIX identifier must be a valid LEI (ISO 17442, MOD 97-10 check digits). */
function c11ValidLei(ni: Ivms101NationalIdentification, at: string, issues: Ivms101Issue[]): void {
  if (ni.nationalIdentifierType === 'LEIX' && !isValidLei(ni.nationalIdentifier)) {
    issues.push({
      field: `${at}.nationalIdentifier`,
      constraint: 'C11',
      message: `"${ni.nationalIdentifier}" is not a valid LEI (ISO 17442 check digits) (IVMS101 C11 ValidLEI)`,
    });
  }
}

/**
 * C12 sequentialIntegrity: the sequence numbers of the transferPath's intermediary VASPs are
 * unique and run from 0 without gaps.
 */
function c12SequentialIntegrity(
  path: ReadonlyArray<{ sequence: number }>,
  issues: Ivms101Issue[],
): void {
  const sorted = path.map((step) => step.sequence).sort((a, b) => a - b);
  if (sorted.some((value, i) => value !== i)) {
    issues.push({
      field: 'transferPath.transferPath',
      constraint: 'C12',
      message: `intermediary VASP sequence numbers must run 0, 1, 2, … without gaps or repeats, got ${path.map((s) => s.sequence).join(', ')} (IVMS101 C12 sequentialIntegrity)`,
    });
  }
}

/** Every name an IVMS101 person is known by, for screening. */
export function personNames(p: Ivms101Person): string[] {
  if (p.naturalPerson) {
    return p.naturalPerson.name.flatMap((name) =>
      [...name.nameIdentifier, ...(name.localNameIdentifier ?? [])].map((n) =>
        [n.secondaryIdentifier, n.primaryIdentifier].filter(Boolean).join(' '),
      ),
    );
  }
  if (!p.legalPerson) return [];
  return [
    ...p.legalPerson.name.nameIdentifier,
    ...(p.legalPerson.name.localNameIdentifier ?? []),
  ].map((n) => n.legalPersonName);
}
