/**
 * The statement a counterparty signs (BIP322) to show it controls a self-hosted address.
 *
 * A signature over any message would prove control of the key, but not that the proof was made
 * for this scheme, this counterparty or recently: a proof published elsewhere (or made for
 * another counterparty) could be replayed. So the signed message must be exactly the statement
 * below, naming the counterparty and the address, issued on a day at most
 * OWNERSHIP_STATEMENT_VALID_DAYS before registration. `GET /v1/participants/:id/addresses/
 * statement` gives the text to sign.
 */
export const OWNERSHIP_STATEMENT_VALID_DAYS = 30;

const DAY_MS = 86_400_000;
const STATEMENT =
  /^Tradeclear address ownership: counterparty (\S+) controls (\S+) and receives payments at it\. Issued (\d{4}-\d{2}-\d{2})\.$/;

export function ownershipStatement(input: {
  counterpartyId: string;
  /** The address in its canonical form (bech32 lower case). */
  address: string;
  /** YYYY-MM-DD (UTC). */
  issuedOn: string;
}): string {
  return `Tradeclear address ownership: counterparty ${input.counterpartyId} controls ${input.address} and receives payments at it. Issued ${input.issuedOn}.`;
}

/** Why a signed message is not a valid statement for this counterparty and address, or null. */
export function statementProblem(
  message: string,
  expected: { counterpartyId: string; address: string; now: Date },
): string | null {
  const match = STATEMENT.exec(message);
  if (!match) {
    return `the signed message must be the ownership statement for this counterparty and address: "${ownershipStatement({ ...expected, issuedOn: expected.now.toISOString().slice(0, 10) })}"`;
  }
  const [, counterpartyId, address, issuedOn] = match as unknown as [
    string,
    string,
    string,
    string,
  ];
  if (counterpartyId !== expected.counterpartyId) {
    return `the statement names counterparty ${counterpartyId}, not ${expected.counterpartyId}`;
  }
  if (address !== expected.address) {
    return `the statement names address ${address}, not ${expected.address}`;
  }
  const issued = Date.parse(`${issuedOn}T00:00:00Z`);
  if (Number.isNaN(issued) || new Date(issued).toISOString().slice(0, 10) !== issuedOn) {
    return `the statement's issue date ${issuedOn} is not a calendar date`;
  }
  const today = Date.parse(`${expected.now.toISOString().slice(0, 10)}T00:00:00Z`);
  if (issued > today + DAY_MS) return `the statement is dated ${issuedOn}, in the future`;
  if (issued < today - OWNERSHIP_STATEMENT_VALID_DAYS * DAY_MS) {
    return `the statement was issued on ${issuedOn}, more than ${OWNERSHIP_STATEMENT_VALID_DAYS} days ago; sign a fresh one`;
  }
  return null;
}
