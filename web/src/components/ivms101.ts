/**
 * IVMS101 (interVASP Messaging Standard, 2020 edition) in the browser: the gate's own validator
 * (`src/kernel/ivms101.ts`: the element lengths of section 5 and the constraints of section 6),
 * so that what a Travel Rule form says at a field is what the gate would say, word for word. Pure:
 * no DOM, no React.
 */
import {
  validateIvms101 as validate,
  type Ivms101Issue,
  type Ivms101Payload,
  type NATIONAL_IDENTIFIER_TYPES,
} from '../../../src/kernel/ivms101';

export type {
  Ivms101Address,
  Ivms101Issue,
  Ivms101NationalIdentification,
  Ivms101Payload,
  Ivms101Person,
} from '../../../src/kernel/ivms101';

/** 5.2.7 NationalIdentifierTypeCode (a restriction of ISO 20022 TypeOfIdentification4Code). */
export type NationalIdentifierType = (typeof NATIONAL_IDENTIFIER_TYPES)[number];

/**
 * Every issue the gate finds in a payload the forms built, in the gate's order: structure first
 * (a structural failure stops there), then the constraints. `today` is the date C2 compares a
 * date of birth with, in UTC.
 */
export function validateIvms101(payload: Ivms101Payload, today: Date): Ivms101Issue[] {
  return validate(payload, today).issues;
}
