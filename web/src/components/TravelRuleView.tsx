import { Badge, Table, Text } from '@mantine/core';
import type { PersonType } from './TravelRule';

/** The Travel Rule data of an invoice or payout as received: one row per person, and badges. */

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
