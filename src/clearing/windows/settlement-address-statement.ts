/**
 * The statement a platform signs (BIP322 simple signature) to show it controls the settlement
 * address it proposes.
 *
 * A signature over any message would prove control of the key, not that the proof was made for
 * this scheme, this platform and recently: a proof made elsewhere could be replayed. So the
 * signed message must be exactly
 *
 *   Tradeclear settlement address: platform <platformId> controls <address> and receives the
 *   clearing's pay-outs at it. Issued <YYYY-MM-DD>.
 *
 * on one line, with one space between the sentences, the address in its canonical form (bech32
 * lower case) and the issue date a UTC day at most SETTLEMENT_STATEMENT_VALID_DAYS before the
 * proposal (and not after the server's today). `GET /v1/settlement-address/statement` gives the
 * text to sign, dated by the server.
 */
export const SETTLEMENT_STATEMENT_VALID_DAYS = 7;

const DAY_MS = 86_400_000;
const STATEMENT =
  /^Tradeclear settlement address: platform (\S+) controls (\S+) and receives the clearing's pay-outs at it\. Issued (\d{4}-\d{2}-\d{2})\.$/;

export function settlementAddressStatement(input: {
  platformId: string;
  /** The address in its canonical form. */
  address: string;
  /** YYYY-MM-DD (UTC). */
  issuedOn: string;
}): string {
  return `Tradeclear settlement address: platform ${input.platformId} controls ${input.address} and receives the clearing's pay-outs at it. Issued ${input.issuedOn}.`;
}

const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/** The statement to sign today, and until when it is accepted. */
export function statementToSign(platformId: string, address: string, now: Date) {
  const issuedOn = dayOf(now);
  const validUntil = new Date(
    Date.parse(`${issuedOn}T00:00:00Z`) + (SETTLEMENT_STATEMENT_VALID_DAYS + 1) * DAY_MS,
  );
  return { message: settlementAddressStatement({ platformId, address, issuedOn }), validUntil };
}

/** Why a signed message is not a valid statement for this platform and address, or null. */
export function settlementStatementProblem(
  message: string,
  expected: { platformId: string; address: string; now: Date },
): string | null {
  const match = STATEMENT.exec(message);
  if (!match)
    return `the signed message must be the settlement address statement: "${settlementAddressStatement({ ...expected, issuedOn: dayOf(expected.now) })}"`;
  const [, platformId, address, issuedOn] = match as unknown as [string, string, string, string];
  if (platformId !== expected.platformId)
    return `the statement names platform ${platformId}, not ${expected.platformId}`;
  if (address !== expected.address)
    return `the statement names address ${address}, not ${expected.address}`;
  const issued = Date.parse(`${issuedOn}T00:00:00Z`);
  if (Number.isNaN(issued) || dayOf(new Date(issued)) !== issuedOn)
    return `the statement's issue date ${issuedOn} is not a calendar date`;
  const today = Date.parse(`${dayOf(expected.now)}T00:00:00Z`);
  if (issued > today) return `the statement is dated ${issuedOn}, in the future`;
  if (issued < today - SETTLEMENT_STATEMENT_VALID_DAYS * DAY_MS)
    return `the statement was issued on ${issuedOn}, more than ${SETTLEMENT_STATEMENT_VALID_DAYS} days ago; sign a fresh one`;
  return null;
}
