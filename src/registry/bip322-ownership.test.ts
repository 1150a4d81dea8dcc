import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openTestDatabase, type Database } from '../db';
import { ManualClock, SeededRandom, systemCaller } from '../kernel';
import { RegistryService } from './service';

/**
 * Self-hosted counterparty addresses are accepted on a BIP322 simple signature only: the BIP's
 * own test vectors (mainnet addresses, so this registry runs on mainnet) must verify, and its
 * invalid and malformed ones must be refused with OWNERSHIP_PROOF_INVALID, writing nothing.
 */
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
};

let db: Database;
let registry: RegistryService;
let counterpartyId = '';
const supervisor = systemCaller('test');

beforeAll(async () => {
  db = await openTestDatabase();
  registry = new RegistryService({
    db,
    clock: new ManualClock('2026-07-01T00:00:00Z'),
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
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe('BIP322 ownership proofs for self-hosted counterparty addresses', () => {
  it.each(vectors.validSimpleSignatures.map((v) => [v.description, v] as const))(
    'accepts %s',
    async (_description, vector) => {
      const view = await registry.registerCounterpartyAddress(supervisor, counterpartyId, {
        ownership: 'self_hosted',
        address: vector.address,
        message: vector.message,
        signature: vector.signature,
      });
      expect(view).toMatchObject({
        address: vector.address,
        ownership: 'self_hosted',
        proof: { message: vector.message },
      });
      expect(await registry.counterpartyAddress(vector.address)).toMatchObject({ counterpartyId });
      // Several vectors share an address: clear it for the next one.
      await db.orm.execute(
        sql`delete from counterparty_addresses where address = ${vector.address}`,
      );
    },
  );

  it.each(
    [...vectors.invalidSimpleSignatures, ...vectors.malformedSignatures].map(
      (v) => [v.description, v] as const,
    ),
  )('refuses %s', async (_description, vector) => {
    await expect(
      registry.registerCounterpartyAddress(supervisor, counterpartyId, {
        ownership: 'self_hosted',
        address: vector.address,
        message: vector.message,
        signature: vector.signature,
      }),
    ).rejects.toMatchObject({ code: 'OWNERSHIP_PROOF_INVALID' });
    expect(await registry.listCounterpartyAddresses(supervisor, counterpartyId)).toEqual([]);
  });
});
