import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leiCheckDigits, systemCaller, type Caller } from '../../src/kernel';
import { ComplianceTransferGate } from '../../src/trade';
import { regtestKey } from '../support/scheme';
import { startTestApp, type TestApp } from '../support/http';
import { TEST_DRIVERS } from '../support/db';

/**
 * Issue 11, screening from onboarding. Before: a counterparty named like a listed person was
 * registered and KYC-verified with no warning (the block came at the first invoice); beneficial
 * owners were stored but never screened (a counterparty 60 % owned by a listed person passed KYC);
 * a hosted address named any free-text VASP; a counterparty's address was accepted as a miner's
 * pool payout address. Real list data: the UN consolidated list of 2026-02-27.
 */

// UN consolidated list 2026-02-27, individuals CDi.041 and CDi.042.
const LISTED_A = 'Michel Rukunda';
const LISTED_B = 'Mohamed Ali Nkalubo';
// UN entity CDe.004.
const LISTED_ENTITY = 'Congomet Trading House';
const unXml = () =>
  new Uint8Array(
    readFileSync(new URL('../vectors/sanctions/un-consolidated-2026-02-27.xml', import.meta.url)),
  );
/** A valid LEI (ISO 17442 check digits computed) from an 18-character prefix. */
const lei = (prefix: string) => `${prefix}${leiCheckDigits(prefix)}`;

const supervisor = systemCaller('test');

describe.each(TEST_DRIVERS)('screening from onboarding, on %s', (driver) => {
  let t: TestApp;
  let platformId = '';
  let otherPlatformId = '';
  let minerId = '';
  let asPlatform: { authorization: string };
  let asOtherPlatform: { authorization: string };
  let asSupervisor: { authorization: string };
  let asCompany: { authorization: string };
  let platform: Caller;
  let companyId = '';
  let ownedBeforeListing = '';
  let renamedAfterVerification = '';

  const call = async (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    url: string,
    headers: { authorization: string },
    payload?: unknown,
  ) => {
    const response = await t.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };

  const register = async (body: Record<string, unknown>) => {
    const created = await call('POST', '/v1/participants', asPlatform, body);
    expect(created.status).toBe(201);
    return created.body as { id: string; screening: { status: string } | null };
  };

  const kyc = (owners: { name: string; country: string; share: string }[] = []) => ({
    status: 'verified',
    riskRating: 'high',
    reviewDue: '2027-06-30',
    beneficialOwners: owners,
    documents: [{ type: 'registry-extract', number: 'HRB-1', issuer: 'registry' }],
  });

  const hitsOf = async (partyId: string, as = asPlatform) => {
    const listed = await call('GET', `/v1/screenings/hits?partyId=${partyId}`, as);
    expect(listed.status).toBe(200);
    return (
      listed.body as {
        items: {
          id: string;
          subject: string;
          reason: string;
          review: string;
          listEntryId: string;
          blocking: boolean;
        }[];
      }
    ).items;
  };

  beforeAll(async () => {
    t = await startTestApp({ driver });
    const registry = t.services.registry;
    await registry.setSchemeJurisdiction(supervisor, { country: 'CO', name: 'Colombia' });
    const licensed = async (name: string, kind: 'platform' | 'miner') => {
      const id = (
        await registry.registerParticipant(supervisor, { kind, legalName: name, country: 'CO' })
      ).id;
      await registry.grantLicence(supervisor, {
        participantId: id,
        kind,
        scope: 'all',
        validFrom: '2026-01-01T00:00:00Z',
        validTo: '2028-01-01T00:00:00Z',
      });
      return id;
    };
    platformId = await licensed('Andes Custody SAS', 'platform');
    otherPlatformId = await licensed('Pacifico Custody SAS', 'platform');
    minerId = await licensed('Cordillera Hash SAS', 'miner');
    platform = { ...supervisor, role: 'platform', participantId: platformId, platformId };
    asPlatform = await t.keyFor('platform', platformId, platformId);
    asOtherPlatform = await t.keyFor('platform', otherPlatformId, otherPlatformId);
    asSupervisor = await t.keyFor('supervisor', 'scheme');
    companyId = (
      await registry.registerParticipant(platform, {
        kind: 'company',
        legalName: 'Cafe Export SAS',
        country: 'CO',
      })
    ).id;
    asCompany = await t.keyFor('company', companyId, platformId);
    // Verified before the list naming its owner is loaded: found by the import's re-screening.
    ownedBeforeListing = (
      await registry.registerParticipant(platform, {
        kind: 'counterparty',
        legalName: 'Entebbe Holdings Ltd',
        country: 'UG',
      })
    ).id;
    renamedAfterVerification = (
      await registry.registerParticipant(platform, {
        kind: 'counterparty',
        personType: 'natural',
        legalName: 'Piotr Nowak',
        country: 'PL',
      })
    ).id;
    const verified = (owners: { name: string; country: string; share: string }[]) => ({
      status: 'verified' as const,
      riskRating: 'low' as const,
      reviewDue: '2027-06-30',
      beneficialOwners: owners,
      documents: [{ type: 'registry-extract', number: 'HRB-2', issuer: 'registry' }],
    });
    await registry.setKyc(platform, companyId, verified([]));
    await registry.setKyc(
      platform,
      ownedBeforeListing,
      verified([{ name: LISTED_B, country: 'UG', share: '60' }]),
    );
    await registry.setKyc(platform, renamedAfterVerification, verified([]));
    await t.services.compliance.screening.importList(supervisor, {
      format: 'un-xml',
      bytes: unXml(),
    });
  }, 300_000);

  afterAll(async () => {
    await t?.close();
  });

  it('flags a counterparty named like a listed person at registration and refuses its KYC verification', async () => {
    const listed = await register({
      kind: 'counterparty',
      personType: 'natural',
      legalName: LISTED_A,
      country: 'CD',
    });
    expect(listed.screening).toMatchObject({ status: 'review' });
    const hits = await hitsOf(listed.id);
    expect(hits).toEqual([
      expect.objectContaining({
        subject: 'name',
        listEntryId: 'CDi.041',
        review: 'open',
        blocking: true,
      }),
    ]);
    // In the list and the detail view.
    const detail = await call('GET', `/v1/participants/${listed.id}`, asPlatform);
    expect(detail.body).toMatchObject({ screening: { status: 'review' } });
    const list = await call('GET', '/v1/participants?kind=counterparty', asPlatform);
    const rows = (list.body as { items: { id: string; screening: unknown }[] }).items;
    expect(rows.find((p) => p.id === listed.id)).toMatchObject({ screening: { status: 'review' } });
    // No tipping-off: a company sees its platform's counterparties, but no screening flag.
    const seenByCompany = await call('GET', '/v1/participants?kind=counterparty', asCompany);
    const companyRows = (seenByCompany.body as { items: { id: string }[] }).items;
    expect(companyRows.find((p) => p.id === listed.id)).toMatchObject({ screening: null });

    const verify = await call('PUT', `/v1/participants/${listed.id}/kyc`, asPlatform, kyc());
    expect(verify.status).toBe(409);
    expect(verify.body).toMatchObject({ code: 'SCREENING_HIT_UNRESOLVED' });
    const stored = await call('GET', `/v1/participants/${listed.id}/kyc`, asPlatform);
    expect(stored.status).toBe(404); // nothing half-written

    // A clean name is registered clear and verified.
    const clean = await register({
      kind: 'counterparty',
      legalName: 'Lisboa Trading Lda',
      country: 'PT',
    });
    expect(clean.screening).toMatchObject({ status: 'clear' });
    expect((await call('PUT', `/v1/participants/${clean.id}/kyc`, asPlatform, kyc())).status).toBe(
      200,
    );
  });

  it('screens a changed name or alias', async () => {
    const party = await register({
      kind: 'counterparty',
      personType: 'natural',
      legalName: 'Jan Kowalski',
      country: 'PL',
    });
    expect(party.screening).toMatchObject({ status: 'clear' });
    const renamed = await call('PATCH', `/v1/participants/${party.id}`, asPlatform, {
      otherNames: [LISTED_B],
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ otherNames: [LISTED_B], screening: { status: 'review' } });
    expect(await hitsOf(party.id)).toEqual([
      expect.objectContaining({ subject: 'name', listEntryId: 'CDi.042' }),
    ]);
    // The alias removed again: the hit is delisted and no longer blocks.
    const back = await call('PATCH', `/v1/participants/${party.id}`, asPlatform, {
      otherNames: [],
    });
    expect(back.body).toMatchObject({ screening: { status: 'clear' } });
  });

  it('resolution: the platform first (false positive or confirmed), the supervisor for a confirmed hit; audited', async () => {
    const a = await register({
      kind: 'counterparty',
      personType: 'natural',
      legalName: LISTED_A,
      country: 'CD',
    });
    const [hitA] = await hitsOf(a.id);
    // Not the supervisor first, not another platform.
    expect(
      (
        await call('POST', `/v1/screenings/hits/${hitA?.id}/resolution`, asSupervisor, {
          decision: 'released',
          reason: 'not the listed person at all',
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await call('POST', `/v1/screenings/hits/${hitA?.id}/resolution`, asOtherPlatform, {
          decision: 'false_positive',
          reason: 'not the listed person at all',
        })
      ).status,
    ).toBe(404);
    const cleared = await call('POST', `/v1/screenings/hits/${hitA?.id}/resolution`, asPlatform, {
      decision: 'false_positive',
      reason: 'born 1990 in Lisbon, passport checked; not CDi.041',
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ review: 'false_positive', blocking: false });
    expect((await call('PUT', `/v1/participants/${a.id}/kyc`, asPlatform, kyc())).status).toBe(200);

    const b = await register({
      kind: 'counterparty',
      personType: 'natural',
      legalName: LISTED_A,
      country: 'CD',
    });
    const [hitB] = await hitsOf(b.id);
    const confirmed = await call('POST', `/v1/screenings/hits/${hitB?.id}/resolution`, asPlatform, {
      decision: 'confirmed',
      reason: 'date of birth and nationality match the entry',
    });
    expect(confirmed.body).toMatchObject({ review: 'confirmed', blocking: true });
    expect((await call('GET', `/v1/participants/${b.id}`, asPlatform)).body).toMatchObject({
      screening: { status: 'blocked' },
    });
    // The platform cannot release its own confirmed hit; the supervisor keeps it blocked.
    expect(
      (
        await call('POST', `/v1/screenings/hits/${hitB?.id}/resolution`, asPlatform, {
          decision: 'released',
          reason: 'we would like to trade',
        })
      ).status,
    ).toBe(403);
    const kept = await call('POST', `/v1/screenings/hits/${hitB?.id}/resolution`, asSupervisor, {
      decision: 'blocked',
      reason: 'confirmed listed person; blocked',
    });
    expect(kept.body).toMatchObject({ review: 'blocked', blocking: true });
    expect(
      (await call('PUT', `/v1/participants/${b.id}/kyc`, asPlatform, kyc())).body,
    ).toMatchObject({
      code: 'SCREENING_HIT_UNRESOLVED',
    });
    const audit = await call('GET', `/v1/audit?entityId=${hitB?.id}`, asSupervisor);
    const actions = JSON.stringify(audit.body);
    expect(actions).toContain('screening_hit.confirmed');
    expect(actions).toContain('screening_hit.blocked');
  });

  it("OFAC's 50 % rule: listed owners at 50 % or more make the entity blocked as if listed", async () => {
    const party = async (
      name: string,
      owners: { name: string; country: string; share: string }[],
    ) => {
      const created = await register({ kind: 'counterparty', legalName: name, country: 'UG' });
      const response = await call('PUT', `/v1/participants/${created.id}/kyc`, asPlatform, {
        ...kyc(owners),
        status: 'pending',
      });
      expect(response.status).toBe(200);
      const detail = await call('GET', `/v1/participants/${created.id}`, asPlatform);
      return { id: created.id, detail: detail.body, hits: await hitsOf(created.id) };
    };
    // One listed owner with 60 %.
    const sixty = await party('Kampala Minerals Ltd', [
      { name: LISTED_A, country: 'CD', share: '60' },
    ]);
    expect(sixty.detail).toMatchObject({ screening: { status: 'blocked' } });
    expect(sixty.hits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subject: 'ownership',
          reason: 'ownership_50_percent',
          blocking: true,
        }),
        expect.objectContaining({ subject: `owner:${LISTED_A}`, reason: 'beneficial_owner' }),
      ]),
    );
    // Two listed owners, 30 % + 25 %, add up to 55 %.
    const aggregate = await party('Goma Traders Ltd', [
      { name: LISTED_A, country: 'CD', share: '30' },
      { name: LISTED_B, country: 'UG', share: '25' },
    ]);
    expect(aggregate.detail).toMatchObject({ screening: { status: 'blocked' } });
    expect(aggregate.hits.filter((h) => h.subject === 'ownership')).toHaveLength(1);
    // 49 %: flagged for review (the owner's hit), not blocked as listed.
    const below = await party('Bunia Supplies Ltd', [
      { name: LISTED_A, country: 'CD', share: '49' },
      { name: 'Anna Schmidt', country: 'DE', share: '51' },
    ]);
    expect(below.detail).toMatchObject({ screening: { status: 'review' } });
    expect(below.hits.map((h) => h.subject)).toEqual([`owner:${LISTED_A}`]);
    // And neither verifies while its hits stand.
    expect(
      (
        await call(
          'PUT',
          `/v1/participants/${sixty.id}/kyc`,
          asPlatform,
          kyc([{ name: LISTED_A, country: 'CD', share: '60' }]),
        )
      ).body,
    ).toMatchObject({
      code: 'SCREENING_HIT_UNRESOLVED',
    });
  });

  it('a list import re-screens every party, owners included, and flags new hits', async () => {
    // Registered before an address list exists: clear.
    const address = regtestKey(71).address;
    const vasp = await call('POST', '/v1/vasps', asSupervisor, {
      name: 'Kinshasa Exchange SARL',
      lei: lei('549300KINSHASA0001'),
      jurisdiction: 'CD',
      licence: { authority: 'ARPTC', number: 'VASP-7' },
    });
    expect(vasp.status).toBe(201);
    const party = await register({
      kind: 'counterparty',
      legalName: 'Lubumbashi Copper SA',
      country: 'CD',
    });
    const registered = await call('POST', `/v1/participants/${party.id}/addresses`, asPlatform, {
      ownership: 'hosted',
      address,
      vaspId: (vasp.body as { id: string }).id,
    });
    expect(registered.status).toBe(201);
    expect(await hitsOf(party.id)).toEqual([]);
    const imported = await t.services.compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`# test list\n${address}\n`),
    });
    expect(imported.rescreen?.newHits).toBeGreaterThanOrEqual(1);
    expect(await hitsOf(party.id)).toEqual([
      expect.objectContaining({ subject: `address:${address}`, reason: 'address', review: 'open' }),
    ]);
    expect((await call('GET', `/v1/participants/${party.id}`, asPlatform)).body).toMatchObject({
      screening: { status: 'review' },
    });
    // An exact address match is never a false positive.
    const [hit] = await hitsOf(party.id);
    expect(
      (
        await call('POST', `/v1/screenings/hits/${hit?.id}/resolution`, asPlatform, {
          decision: 'false_positive',
          reason: 'we think the list is wrong',
        })
      ).status,
    ).toBe(409);
  });

  it('a hosted address names a registered, screened VASP by id; free text is refused', async () => {
    const party = await register({
      kind: 'counterparty',
      legalName: 'Quito Cacao SA',
      country: 'EC',
    });
    const freeText = await call('POST', `/v1/participants/${party.id}/addresses`, asPlatform, {
      ownership: 'hosted',
      address: regtestKey(72).address,
      vasp: { name: 'Any Exchange' },
    });
    expect(freeText.status).toBe(400);
    const unknown = await call('POST', `/v1/participants/${party.id}/addresses`, asPlatform, {
      ownership: 'hosted',
      address: regtestKey(72).address,
      vaspId: 'vsp_01JAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('vaspId');
    // A VASP's LEI must carry valid check digits.
    const badLei = await call('POST', '/v1/vasps', asSupervisor, {
      name: 'Bad Lei Exchange',
      lei: '549300BADLEI00000000',
      jurisdiction: 'EC',
      licence: { authority: 'SB', number: '1' },
    });
    expect(badLei.status).toBe(400);
    expect(badLei.body).toMatchObject({ code: 'INVALID_LEI' });
    // A platform does not register VASPs.
    expect(
      (
        await call('POST', '/v1/vasps', asPlatform, {
          name: 'Own Exchange',
          lei: lei('549300OWNEXCHANGE1'),
          jurisdiction: 'EC',
          licence: { authority: 'SB', number: '2' },
        })
      ).status,
    ).toBe(403);
    // A VASP named like a listed person is flagged, and no address can be hosted there until resolved.
    const listedVasp = await call('POST', '/v1/vasps', asSupervisor, {
      name: LISTED_ENTITY,
      lei: lei('549300NKALUBOEXCH1'),
      jurisdiction: 'UG',
      licence: { authority: 'BOU', number: '3' },
    });
    expect(listedVasp.body).toMatchObject({ screening: { status: 'review' } });
    const atListed = await call('POST', `/v1/participants/${party.id}/addresses`, asPlatform, {
      ownership: 'hosted',
      address: regtestKey(73).address,
      vaspId: (listedVasp.body as { id: string }).id,
    });
    expect(atListed.status).toBe(409);
    expect(atListed.body).toMatchObject({ code: 'SCREENING_HIT_UNRESOLVED' });
    const vasps = await call('GET', '/v1/vasps', asPlatform);
    expect((vasps.body as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(2);
  });

  it('one address, one owner: a counterparty address is refused as a pool payout address, and vice versa', async () => {
    const vasp = await call('POST', '/v1/vasps', asSupervisor, {
      name: 'Lima Exchange SAC',
      lei: lei('549300LIMAEXCHANGE'),
      jurisdiction: 'PE',
      licence: { authority: 'SBS', number: '9' },
    });
    const vaspId = (vasp.body as { id: string }).id;
    const party = await register({
      kind: 'counterparty',
      legalName: 'Cusco Textiles SAC',
      country: 'PE',
    });
    const shared = regtestKey(74).address;
    expect(
      (
        await call('POST', `/v1/participants/${party.id}/addresses`, asPlatform, {
          ownership: 'hosted',
          address: shared,
          vaspId,
        })
      ).status,
    ).toBe(201);
    const asMiner = await t.keyFor('miner', minerId);
    await t.services.registry.createRegion(supervisor, {
      code: 'andes',
      name: 'Andes',
      timeZone: 'America/Bogota',
    });
    const site = await call('POST', '/v1/mining/sites', asMiner, {
      regionCode: 'andes',
      name: 'Site 1',
      gridConnection: 'grid',
      powerCapacityMw: '5',
      declaredHashrateThs: '100',
      commissioningDate: '2026-01-01',
    });
    expect(site.status).toBe(201);
    const siteId = (site.body as { id: string }).id;
    const payout = await call('POST', `/v1/mining/sites/${siteId}/payout-addresses`, asMiner, {
      address: shared,
      kind: 'pool',
      poolName: 'Andes Pool',
    });
    expect(payout.status).toBe(409);
    expect(payout.body).toMatchObject({
      code: 'ADDRESS_ALREADY_ASSIGNED',
      issues: [expect.objectContaining({ field: 'address' })],
    });
    // And the other way round.
    const minerOnly = regtestKey(75).address;
    expect(
      (
        await call('POST', `/v1/mining/sites/${siteId}/payout-addresses`, asMiner, {
          address: minerOnly,
          kind: 'pool',
          poolName: 'Andes Pool',
        })
      ).status,
    ).toBe(201);
    const counter = await call('POST', `/v1/participants/${party.id}/addresses`, asPlatform, {
      ownership: 'hosted',
      address: minerOnly,
      vaspId,
    });
    expect(counter.status).toBe(409);
    expect(counter.body).toMatchObject({
      code: 'ADDRESS_ALREADY_ASSIGNED',
      issues: [expect.objectContaining({ field: 'address' })],
    });
    // The audit chain still verifies.
    const verified = await call('GET', '/v1/audit/verify', asSupervisor);
    expect(verified.body).toMatchObject({ ok: true });
  });

  it('the gate holds a transfer with a party whose hit stands (fail closed), the 50 % rule as if listed', async () => {
    const gate = new ComplianceTransferGate({
      db: t.db,
      gate: t.services.compliance.gate,
      registry: t.services.registry,
      clock: t.clock,
    });
    const decide = (transferId: string, counterpartyId: string) =>
      t.db.transaction(() =>
        gate.decide(platform, {
          transferId,
          occurredAt: t.clock.now(),
          direction: 'outbound',
          platformId,
          companyId,
          counterpartyId,
          contractId: 'ctr_onboardingtest',
          address: null,
          amountSats: 100_000n,
          fiatMinor: 6_000n,
          currency: 'USD',
          rate: '60000',
          openAmountSats: 10_000_000n,
          toleranceSats: 0n,
          travelRule: null,
        }),
      );
    // Verified, then the list import found its 60 % owner listed.
    expect(await hitsOf(ownedBeforeListing)).toEqual(
      expect.arrayContaining([expect.objectContaining({ subject: 'ownership', blocking: true })]),
    );
    const owned = await decide('pay_onboarding00001', ownedBeforeListing);
    expect(owned.outcome).toBe('block');
    expect(owned.reasons.join('\n')).toContain('SANCTIONS_OWNERSHIP_50');
    // Verified, then given a listed alias: held while the hit is open.
    const renamed = await call(
      'PATCH',
      `/v1/participants/${renamedAfterVerification}`,
      asPlatform,
      {
        otherNames: [LISTED_A],
      },
    );
    expect(renamed.body).toMatchObject({ screening: { status: 'review' } });
    const held = await decide('pay_onboarding00002', renamedAfterVerification);
    expect(held.outcome).toBe('block');
    expect(held.reasons.join('\n')).toContain('SCREENING_HIT_UNRESOLVED');
  });
});
