import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../db';
import { ManualClock, SeededRandom, systemCaller } from '../kernel';
import { NETWORK, WIF } from '@scure/btc-signer';
import { signBip322Simple } from '../bitcoin';
import { ownershipStatement } from './ownership';
import { RegistryService } from './service';
import { openTestDatabase } from '../../test/support/db';

/**
 * Self-hosted counterparty addresses are accepted on a BIP322 simple signature over the ownership
 * statement for that counterparty and address only. The BIP's test key (mainnet addresses, so
 * this registry runs on mainnet) signs statements for its P2WPKH and P2TR addresses; the BIP's
 * own valid signatures (over "Hello World" and "") verify but prove nothing about this scheme
 * and are refused as unbound, like statements for another counterparty, another address or too
 * old; invalid and malformed signatures are refused. Every refusal writes nothing.
 */
const P2WPKH_ADDRESS = 'bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l';
const P2TR_ADDRESS = 'bc1ppv609nr0vr25u07u95waq5lucwfm6tde4nydujnu8npg4q75mr5sxq8lt3';

interface Vector {
  description: string;
  address: string;
  message: string;
  signature: string;
}
const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../test/vectors/bip322/vectors.json'), 'utf8'),
) as {
  validSimpleSignatures: Vector[];
  invalidSimpleSignatures: Vector[];
  malformedSignatures: Vector[];
  privateKeyWif: string;
};
const privateKey = WIF(NETWORK).decode(vectors.privateKeyWif);

let db: Database;
let registry: RegistryService;
let counterpartyId = '';
let otherCounterpartyId = '';
const clock = new ManualClock('2026-07-01T00:00:00Z');
const supervisor = systemCaller('test');

beforeAll(async () => {
  db = await openTestDatabase();
  registry = new RegistryService({
    db,
    clock,
    random: new SeededRandom(3),
    network: 'mainnet',
  });
  const platform = await registry.registerParticipant(supervisor, {
    kind: 'platform',
    legalName: 'Alpha VASP',
    country: 'DE',
  });
  await registry.grantLicence(supervisor, {
    participantId: platform.id,
    kind: 'vasp',
    scope: 'custody',
    validFrom: '2026-01-01T00:00:00Z',
  });
  counterpartyId = (
    await registry.registerParticipant(supervisor, {
      kind: 'counterparty',
      legalName: 'Far Away Trading',
      country: 'SG',
      platformId: platform.id,
    })
  ).id;
  otherCounterpartyId = (
    await registry.registerParticipant(supervisor, {
      kind: 'counterparty',
      legalName: 'Other Trading',
      country: 'SG',
      platformId: platform.id,
    })
  ).id;
}, 60_000);

afterAll(async () => {
  await db?.close();
});

const statement = (address: string, id = counterpartyId, issuedOn = '2026-07-01') =>
  ownershipStatement({ counterpartyId: id, address, issuedOn });
const sign = (address: string, message: string) =>
  signBip322Simple({ address, message, privateKey, network: 'mainnet' });

async function refused(input: { address: string; message: string; signature: string }) {
  const error: unknown = await registry
    .registerCounterpartyAddress(supervisor, counterpartyId, {
      ownership: 'self_hosted',
      ...input,
    })
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toMatchObject({ code: 'OWNERSHIP_PROOF_INVALID' });
  expect((await registry.listCounterpartyAddresses(supervisor, counterpartyId)).items).toEqual([]);
  return error as { message: string; issues: { field: string }[] };
}

describe('BIP322 ownership proofs for self-hosted counterparty addresses', () => {
  it.each([
    ['P2WPKH', P2WPKH_ADDRESS, 'p2wpkh'],
    ['P2TR', P2TR_ADDRESS, 'p2tr'],
  ])('accepts the ownership statement signed for a %s address', async (_t, address, type) => {
    const served = await registry.ownershipStatement(supervisor, counterpartyId, address);
    expect(served).toEqual({
      message: statement(address),
      validUntil: '2026-08-01T00:00:00.000Z',
    });
    const view = await registry.registerCounterpartyAddress(supervisor, counterpartyId, {
      ownership: 'self_hosted',
      address,
      message: served.message,
      signature: sign(address, served.message),
    });
    expect(view).toMatchObject({
      address,
      ownership: 'self_hosted',
      proof: { message: served.message, addressType: type },
    });
    expect(await registry.counterpartyAddress(address)).toMatchObject({ counterpartyId });
    await db.orm.execute(sql`delete from counterparty_addresses where address = ${address}`);
  });

  it.each(vectors.validSimpleSignatures.map((v) => [v.description, v] as const))(
    'refuses %s: a valid signature, but not over the ownership statement',
    async (_description, vector) => {
      const error = await refused(vector);
      expect(error.message).toContain('ownership statement');
      expect(error.issues[0]?.field).toBe('message');
    },
  );

  it('refuses a statement for another counterparty, another address, too old or in the future', async () => {
    const cases: Array<[string, string]> = [
      [statement(P2WPKH_ADDRESS, otherCounterpartyId), `names counterparty ${otherCounterpartyId}`],
      [statement(P2TR_ADDRESS), `names address ${P2TR_ADDRESS}`],
      [statement(P2WPKH_ADDRESS, counterpartyId, '2026-05-31'), 'more than 30 days ago'],
      [statement(P2WPKH_ADDRESS, counterpartyId, '2026-07-03'), 'in the future'],
      [statement(P2WPKH_ADDRESS, counterpartyId, '2026-02-30'), 'not a calendar date'],
    ];
    for (const [message, why] of cases) {
      const error = await refused({
        address: P2WPKH_ADDRESS,
        message,
        signature: sign(P2WPKH_ADDRESS, message),
      });
      expect(error.message).toContain(why);
    }
    // Thirty days old is still accepted.
    const old = statement(P2WPKH_ADDRESS, counterpartyId, '2026-06-01');
    await registry.registerCounterpartyAddress(supervisor, counterpartyId, {
      ownership: 'self_hosted',
      address: P2WPKH_ADDRESS,
      message: old,
      signature: sign(P2WPKH_ADDRESS, old),
    });
    await db.orm.execute(sql`delete from counterparty_addresses where address = ${P2WPKH_ADDRESS}`);
  });

  it.each(
    [...vectors.invalidSimpleSignatures, ...vectors.malformedSignatures].map(
      (v) => [v.description, v] as const,
    ),
  )('refuses %s over the right statement', async (_description, vector) => {
    let address = vector.address;
    try {
      address = (
        await registry.ownershipStatement(supervisor, counterpartyId, vector.address)
      ).message
        .split(' controls ')[1]!
        .split(' ')[0]!;
    } catch {
      // An address the scheme cannot parse: refused for that before any signature check.
    }
    await expect(
      registry.registerCounterpartyAddress(supervisor, counterpartyId, {
        ownership: 'self_hosted',
        address: vector.address,
        message: statement(address),
        signature: vector.signature,
      }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/OWNERSHIP_PROOF_INVALID|INVALID_ADDRESS/) as unknown,
    });
    expect((await registry.listCounterpartyAddresses(supervisor, counterpartyId)).items).toEqual(
      [],
    );
  });
});
