import { z } from 'zod';
import { deriveAddress, parseDescriptor } from '../../bitcoin';
import { AppError, type Caller } from '../../kernel';
import {
  KYC_STATUSES,
  LICENCE_STATUSES,
  PARTICIPANT_KINDS,
  PERSON_TYPES,
  RISK_LEVELS,
  formatBasisPoints,
  VASP_LICENCE_STATUSES,
  type VaspView,
  type CounterpartyAddressView,
  type KycView,
  type LicenceView,
  type ParticipantView,
  type WalletAddressView,
  type WalletView,
} from '../../registry';
import type { ScreeningFlag } from '../../compliance';
import type { AppDeps, TypedApp } from '../app';
import { callerOf, WRITERS } from '../auth';
import { nameField, namesOf } from '../names';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

/** Registry routes: participants, licences, KYC/KYB, jurisdictions and regions, wallets, counterparty addresses. */

const iso = (d: Date | null) => d?.toISOString() ?? null;

const screeningFlagSchema = z
  .object({
    status: z.enum(['clear', 'review', 'blocked']).meta({
      description:
        '`review`: an open sanctions screening hit; `blocked`: a confirmed hit, or ownership by listed persons of 50 % or more (OFAC 50 % rule); both block KYC verification until resolved (GET /v1/screenings/hits?partyId=…)',
    }),
    openHits: z.number(),
  })
  .nullable()
  .meta({
    id: 'ScreeningFlag',
    description:
      "the party's screening flag, for platform officers, the supervisor and the auditor; null for other roles",
  });

/** Roles that see screening flags (a company or miner never learns of a hit: no tipping-off). */
const SEES_SCREENING = new Set(['platform', 'supervisor', 'auditor']);

const participantSchema = z
  .object({
    id: z.string(),
    kind: z.enum(PARTICIPANT_KINDS),
    personType: z.enum(PERSON_TYPES),
    legalName: z.string(),
    otherNames: z.array(z.string()),
    country: z.string(),
    registrationNumber: z.string().nullable(),
    lei: z.string().nullable(),
    addresses: z.array(
      z.object({
        lines: z.array(z.string()),
        city: z.string(),
        postalCode: z.string().optional(),
        country: z.string(),
      }),
    ),
    contacts: z.array(
      z.object({
        name: z.string(),
        email: z.string().optional(),
        phone: z.string().optional(),
        role: z.string().optional(),
      }),
    ),
    platformId: z.string().nullable(),
    platformName: nameField,
    createdAt: z.string(),
    screening: screeningFlagSchema,
  })
  .meta({ id: 'Participant' });

const licenceSchema = z
  .object({
    id: z.string(),
    participantId: z.string(),
    participantName: nameField,
    kind: z.string(),
    scope: z.string(),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    status: z.enum(['active', 'suspended', 'revoked', 'expired']),
    statusReason: z.string().nullable(),
    history: z.array(
      z.object({
        at: z.string(),
        fromStatus: z.string().nullable(),
        toStatus: z.string(),
        reason: z.string().nullable(),
        actor: z.string(),
      }),
    ),
  })
  .meta({ id: 'Licence' });

const presentLicence = (l: LicenceView) => ({
  ...l,
  validFrom: l.validFrom.toISOString(),
  validTo: iso(l.validTo),
  history: l.history.map((h) => ({ ...h, at: h.at.toISOString() })),
});

const kycSchema = z
  .object({
    participantId: z.string(),
    platformId: z.string(),
    status: z.enum(KYC_STATUSES),
    riskRating: z.enum(RISK_LEVELS),
    reviewDue: z.string(),
    beneficialOwners: z.array(
      z.object({
        name: z.string(),
        country: z.string(),
        share: z.string(),
        dateOfBirth: z.string().optional(),
      }),
    ),
    documents: z.array(z.object({ type: z.string(), number: z.string(), issuer: z.string() })),
    statusReason: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Kyc' });

const presentKyc = (k: KycView) => ({
  ...k,
  beneficialOwners: k.beneficialOwners.map(({ shareBasisPoints, ...o }) => ({
    ...o,
    share: formatBasisPoints(shareBasisPoints),
  })),
  updatedAt: k.updatedAt.toISOString(),
});

const walletSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    platformId: z.string(),
    network: z.string(),
    descriptor: z.string(),
    label: z.string(),
    nextIndex: z.number().meta({
      description: 'the next receive index: as many receive addresses have been handed out',
    }),
    nextChangeIndex: z.number().meta({
      description: 'the next change index: as many change addresses have been handed out',
    }),
    createdAt: z.string(),
  })
  .meta({ id: 'Wallet' });
const presentWallet = (w: WalletView) => ({ ...w, createdAt: w.createdAt.toISOString() });

const walletAddressSchema = z
  .object({
    id: z.string(),
    walletId: z.string(),
    companyId: z.string(),
    address: z.string(),
    branch: z.enum(['receive', 'change']).meta({
      description:
        'BIP44 change field: `receive` (invoices, deposits) or `change` (payout change outputs)',
    }),
    derivationIndex: z.number(),
    purpose: z.string().nullable(),
    usedAt: z.string(),
  })
  .meta({ id: 'WalletAddress' });
const presentWalletAddress = ({ platformId: _platform, ...a }: WalletAddressView) => ({
  ...a,
  usedAt: a.usedAt.toISOString(),
});

const counterpartyAddressSchema = z
  .object({
    id: z.string(),
    counterpartyId: z.string(),
    address: z.string(),
    network: z.string(),
    ownership: z.enum(['hosted', 'self_hosted']),
    vasp: z
      .object({ id: z.string().nullable(), name: z.string(), lei: z.string().nullable() })
      .nullable()
      .meta({
        description:
          'the registered VASP holding a hosted address (`id` null only for addresses registered before the VASP registry)',
      }),
    proof: z
      .object({ message: z.string(), signature: z.string(), addressType: z.string() })
      .nullable(),
    verifiedAt: z.string(),
  })
  .meta({ id: 'CounterpartyAddress' });
const presentCounterpartyAddress = ({ platformId: _platform, ...a }: CounterpartyAddressView) => ({
  ...a,
  verifiedAt: a.verifiedAt.toISOString(),
});

const text = (max: number) => z.string().max(max);

export function registerParticipantRoutes(app: TypedApp, deps: AppDeps): void {
  const registry = deps.services.registry;
  const screening = deps.services.compliance.screening;

  /** Participants as shown, each with its screening flag for the roles that may see it. */
  const present = async (caller: Caller, views: readonly ParticipantView[]) => {
    const flags = SEES_SCREENING.has(caller.role)
      ? await screening.flags(views.map((v) => v.id))
      : new Map<string, ScreeningFlag>();
    const name = await namesOf(
      deps,
      views.map((v) => v.platformId),
    );
    return views.map(({ updatedAt: _updated, ...p }) => ({
      ...p,
      platformName: name(p.platformId),
      createdAt: p.createdAt.toISOString(),
      screening: SEES_SCREENING.has(caller.role)
        ? (flags.get(p.id) ?? { status: 'clear' as const, openHits: 0 })
        : null,
    }));
  };
  const presentOne = async (caller: Caller, view: ParticipantView) => {
    const [shown] = await present(caller, [view]);
    if (!shown) throw new AppError('INTERNAL', 'participant view lost');
    return shown;
  };

  /** A wallet the caller may see; another's is not found, exactly like one that does not exist. */
  const visibleWallet = (caller: Caller, id: string): Promise<WalletView> =>
    registry.getWallet(caller, id);

  app.post(
    '/v1/participants',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          'Register a platform or miner (supervisor), or a company or counterparty (its platform)',
        body: z
          .object({
            kind: z.enum(PARTICIPANT_KINDS),
            personType: z
              .enum(PERSON_TYPES)
              .optional()
              .describe(
                'counterparties only: `natural` for a sole trader, screened against listed individuals (default `legal`)',
              ),
            legalName: text(300),
            otherNames: z.array(text(300)).max(20).optional(),
            country: text(10),
            registrationNumber: text(100).nullable().optional(),
            lei: text(40).nullable().optional(),
            addresses: z
              .array(
                z
                  .object({
                    lines: z.array(text(200)).max(5),
                    city: text(100),
                    postalCode: text(20).optional(),
                    country: text(10),
                  })
                  .strict(),
              )
              .max(10)
              .optional(),
            contacts: z
              .array(
                z
                  .object({
                    name: text(200),
                    email: text(200).optional(),
                    phone: text(50).optional(),
                    role: text(100).optional(),
                  })
                  .strict(),
              )
              .max(10)
              .optional(),
            platformId: text(40).nullable().optional(),
          })
          .strict(),
        response: { 201: participantSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['supervisor', 'platform']);
      const created = await registry.registerParticipant(caller, request.body);
      return reply.status(201).send(await presentOne(caller, created));
    },
  );

  app.get(
    '/v1/participants',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'Participants visible to the caller',
        description:
          "Newest first, a page at a time: pass `nextCursor` as `cursor` for the next. Each page's screening flags are read in one query.",
        querystring: z.object({
          kind: z.enum(PARTICIPANT_KINDS).optional(),
          platformId: text(40).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(participantSchema), ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor, ...filter } = request.query;
      const page = await registry.listParticipants(caller, filter, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: await present(caller, page.items) };
    },
  );

  app.get(
    '/v1/participants/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'One participant',
        params: idParam('par'),
        response: { 200: participantSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return presentOne(caller, await registry.getParticipant(caller, request.params.id));
    },
  );

  app.patch(
    '/v1/participants/:id',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          "Change a company's or counterparty's legal name or other names (its platform, or the supervisor); the new names are screened at once",
        params: idParam('par'),
        body: z
          .object({
            legalName: text(300).optional(),
            otherNames: z.array(text(300)).max(20).optional(),
          })
          .strict(),
        response: { 200: participantSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, ['supervisor', 'platform']);
      return presentOne(
        caller,
        await registry.updateParticipantNames(caller, request.params.id, request.body),
      );
    },
  );

  const vaspSchema = z
    .object({
      id: z.string(),
      name: z.string(),
      otherNames: z.array(z.string()),
      lei: z.string(),
      jurisdiction: z.string(),
      licence: z.object({
        authority: z.string(),
        number: z.string(),
        status: z.enum(VASP_LICENCE_STATUSES),
      }),
      createdAt: z.string(),
      screening: screeningFlagSchema,
    })
    .meta({ id: 'Vasp' });

  const presentVasps = async (caller: Caller, views: readonly VaspView[]) => {
    const flags = SEES_SCREENING.has(caller.role)
      ? await screening.flags(views.map((v) => v.id))
      : new Map<string, ScreeningFlag>();
    return views.map((v) => ({
      ...v,
      createdAt: v.createdAt.toISOString(),
      screening: SEES_SCREENING.has(caller.role)
        ? (flags.get(v.id) ?? { status: 'clear' as const, openHits: 0 })
        : null,
    }));
  };

  app.post(
    '/v1/vasps',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary:
          'Register a foreign VASP (supervisor): name, LEI (ISO 17442), jurisdiction and licence; screened at once like any party',
        body: z
          .object({
            name: text(300),
            otherNames: z.array(text(300)).max(20).optional(),
            lei: text(40),
            jurisdiction: text(10),
            licence: z
              .object({
                authority: text(200),
                number: text(100),
                status: z.enum(VASP_LICENCE_STATUSES).optional(),
              })
              .strict(),
          })
          .strict(),
        response: { 201: vaspSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['supervisor']);
      const created = await registry.registerVasp(caller, request.body);
      const [shown] = await presentVasps(caller, [created]);
      if (!shown) throw new AppError('INTERNAL', 'VASP view lost');
      return reply.status(201).send(shown);
    },
  );

  app.get(
    '/v1/vasps',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'The foreign VASPs of the registry (a hosted counterparty address names one)',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object(pageQuery),
        response: { 200: pageSchema(vaspSchema), ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor } = request.query;
      const page = await registry.listVasps({ limit, cursor: cursor ?? null });
      return { ...page, items: await presentVasps(caller, page.items) };
    },
  );

  app.post(
    '/v1/licences',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary: 'Grant a licence to a platform or miner (supervisor)',
        body: z
          .object({
            participantId: text(40),
            kind: text(100),
            scope: text(500),
            validFrom: text(40),
            validTo: text(40).nullable().optional(),
          })
          .strict(),
        response: { 201: licenceSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentLicence(
            await registry.grantLicence(callerOf(request, ['supervisor']), request.body),
          ),
        ),
  );

  app.get(
    '/v1/licences',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'Licences visible to the caller',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          participantId: text(40).optional(),
          status: z.enum(LICENCE_STATUSES).optional().meta({
            description: 'the status as shown (an active licence past its end is expired)',
          }),
          ...pageQuery,
        }),
        response: { 200: pageSchema(licenceSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await registry.listLicences(callerOf(request), filter, {
        limit,
        cursor: cursor ?? null,
      });
      const name = await namesOf(
        deps,
        page.items.map((l) => l.participantId),
      );
      return {
        ...page,
        items: page.items.map((l) => ({
          ...presentLicence(l),
          participantName: name(l.participantId),
        })),
      };
    },
  );

  app.post(
    '/v1/licences/:id/status',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary: 'Suspend, reinstate, revoke or expire a licence (supervisor), with a reason',
        params: idParam('lic'),
        body: z
          .object({
            status: z.enum(['active', 'suspended', 'revoked', 'expired']),
            reason: text(500).nullable().optional(),
          })
          .strict(),
        response: { 200: licenceSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentLicence(
        await registry.changeLicenceStatus(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body.status,
          request.body.reason,
        ),
      ),
  );

  app.put(
    '/v1/participants/:id/kyc',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary: "Record a company's or counterparty's KYC/KYB (its platform)",
        params: idParam('par'),
        body: z
          .object({
            status: z.enum(KYC_STATUSES),
            riskRating: z.enum(RISK_LEVELS),
            reviewDue: text(10),
            beneficialOwners: z
              .array(
                z
                  .object({
                    name: text(200),
                    country: text(10),
                    share: text(10),
                    dateOfBirth: text(10).optional(),
                  })
                  .strict(),
              )
              .max(10),
            documents: z
              .array(z.object({ type: text(100), number: text(100), issuer: text(200) }).strict())
              .max(20),
            reason: text(500).nullable().optional(),
          })
          .strict(),
        response: { 200: kycSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentKyc(
        await registry.setKyc(
          callerOf(request, ['supervisor', 'platform']),
          request.params.id,
          request.body,
        ),
      ),
  );

  app.get(
    '/v1/participants/:id/kyc',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'KYC/KYB record',
        params: idParam('par'),
        response: { 200: kycSchema, ...commonErrors },
      },
    },
    async (request) => presentKyc(await registry.getKyc(callerOf(request), request.params.id)),
  );

  const jurisdictionSchema = z
    .object({
      country: z.string(),
      riskLevel: z.enum(RISK_LEVELS),
      refused: z.boolean(),
      reason: z.string().nullable(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Jurisdiction' });
  const regionSchema = z
    .object({ code: z.string(), name: z.string(), timeZone: z.string() })
    .meta({ id: 'Region' });

  app.put(
    '/v1/jurisdictions/scheme',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary: "Set the scheme's own jurisdiction (supervisor)",
        body: z.object({ country: text(10), name: text(200) }).strict(),
        response: { 200: z.object({ country: z.string(), name: z.string() }), ...commonErrors },
      },
    },
    async (request) =>
      registry.setSchemeJurisdiction(callerOf(request, ['supervisor']), request.body),
  );

  app.put(
    '/v1/jurisdictions/:country',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary:
          "Set a foreign country's risk level and whether settlement with it is refused (supervisor)",
        params: z.object({ country: text(10) }),
        body: z
          .object({
            riskLevel: z.enum(RISK_LEVELS),
            refused: z.boolean(),
            reason: text(500).nullable().optional(),
          })
          .strict(),
        response: { 200: jurisdictionSchema, ...commonErrors },
      },
    },
    async (request) => {
      const view = await registry.setJurisdiction(callerOf(request, ['supervisor']), {
        country: request.params.country,
        ...request.body,
      });
      return { ...view, updatedAt: view.updatedAt.toISOString() };
    },
  );

  app.get(
    '/v1/jurisdictions',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary:
          'The foreign jurisdictions list, by country code (only the refused ones, or the others, with refused)',
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z
          .object({ refused: z.enum(['true', 'false']).optional(), ...pageQuery })
          .strict(),
        response: { 200: pageSchema(jurisdictionSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { refused, limit, cursor } = request.query;
      const page = await registry.listJurisdictions(
        { refused: refused === undefined ? undefined : refused === 'true' },
        { limit, cursor: cursor ?? null },
      );
      return {
        ...page,
        items: page.items.map((j) => ({ ...j, updatedAt: j.updatedAt.toISOString() })),
      };
    },
  );

  app.get(
    '/v1/jurisdictions/scheme',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: "The scheme's own jurisdiction (null until the supervisor sets it)",
        response: {
          200: z.object({
            scheme: z.object({ country: z.string(), name: z.string() }).nullable(),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      callerOf(request);
      return { scheme: await registry.getSchemeJurisdiction() };
    },
  );

  app.get(
    '/v1/regions',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: "The scheme jurisdiction's regions, by code",
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object(pageQuery).strict(),
        response: { 200: pageSchema(regionSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { limit, cursor } = request.query;
      return registry.listRegions({ limit, cursor: cursor ?? null });
    },
  );

  app.post(
    '/v1/regions',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary: 'Create a region of the scheme jurisdiction, with its IANA time zone (supervisor)',
        body: z.object({ code: text(40), name: text(200), timeZone: text(64) }).strict(),
        response: {
          201: z.object({ code: z.string(), name: z.string(), timeZone: z.string() }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await registry.createRegion(callerOf(request, ['supervisor']), request.body)),
  );

  app.post(
    '/v1/wallets',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          "Register a company's watch-only wallet (descriptor) (its platform): its one wallet, from which invoices take receive addresses and payouts change addresses",
        body: z
          .object({ companyId: text(40), descriptor: text(4000), label: text(100).optional() })
          .strict(),
        response: { 201: walletSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentWallet(
            await registry.registerWallet(
              callerOf(request, ['supervisor', 'platform']),
              request.body,
            ),
          ),
        ),
  );

  app.get(
    '/v1/wallets',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'Wallets visible to the caller',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({ companyId: text(40).optional(), ...pageQuery }),
        response: { 200: pageSchema(walletSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await registry.listWallets(callerOf(request), filter, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: page.items.map(presentWallet) };
    },
  );

  app.post(
    '/v1/wallets/:id/addresses',
    {
      config: { roles: WRITERS },
      schema: {
        tags: ['registry'],
        summary: 'Derive and hand out the next receive address',
        params: idParam('wal'),
        body: z.object({ purpose: text(200).nullable().optional() }).strict(),
        response: { 201: walletAddressSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentWalletAddress(
            await registry.deriveReceiveAddress(
              callerOf(request, WRITERS),
              request.params.id,
              request.body.purpose ?? null,
            ),
          ),
        ),
  );

  app.get(
    '/v1/wallets/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'One wallet visible to the caller',
        params: idParam('wal'),
        response: { 200: walletSchema, ...commonErrors },
      },
    },
    async (request) => presentWallet(await visibleWallet(callerOf(request), request.params.id)),
  );

  app.get(
    '/v1/wallets/:id/addresses',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary:
          'Addresses handed out (used: receive and change), and optionally the next receive addresses not yet handed out (unused)',
        params: idParam('wal'),
        description:
          'Receive then change, each by index, a page at a time: pass `nextCursor` as `cursor` for the next. `unused` is not paged (at most 20).',
        querystring: z.object({
          unused: z.coerce.number().int().min(0).max(20).default(0).meta({
            description:
              'how many of the next receive addresses, not yet handed out, to derive and show (0–20)',
          }),
          branch: z
            .enum(['receive', 'change'])
            .optional()
            .meta({ description: 'only the receive (BIP44 change = 0) or change (1) addresses' }),
          ...pageQuery,
        }),
        response: {
          200: pageSchema(walletAddressSchema).extend({
            unused: z.array(z.object({ derivationIndex: z.number(), address: z.string() })),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { branch, limit, cursor } = request.query;
      const page = await registry.listWalletAddresses(
        caller,
        request.params.id,
        { branch: branch === undefined ? undefined : branch === 'receive' ? 0 : 1 },
        { limit, cursor: cursor ?? null },
      );
      const unused: { derivationIndex: number; address: string }[] = [];
      if (request.query.unused > 0) {
        // The receive branch (BIP44 change = 0) from the next index on: what the platform's own
        // wallet software should show too, so an officer can check the descriptor matches it.
        const wallet = await visibleWallet(caller, request.params.id);
        const descriptor = parseDescriptor(wallet.descriptor, wallet.network);
        for (let i = 0; i < request.query.unused; i++) {
          const derived = deriveAddress(descriptor, 0, wallet.nextIndex + i);
          if (derived.address)
            unused.push({ derivationIndex: wallet.nextIndex + i, address: derived.address });
        }
      }
      return { ...page, items: page.items.map(presentWalletAddress), unused };
    },
  );

  app.post(
    '/v1/participants/:id/addresses',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          "Register a counterparty's address: hosted at a registered VASP (by id) or proven by a BIP322 signature (self-hosted); an address belongs to one owner across the registry, and is screened at once",
        params: idParam('par'),
        body: z.discriminatedUnion('ownership', [
          z
            .object({
              ownership: z.literal('hosted'),
              address: text(120),
              vaspId: text(40).describe(
                'the registered foreign VASP holding the address (GET /v1/vasps)',
              ),
            })
            .strict(),
          z
            .object({
              ownership: z.literal('self_hosted'),
              address: text(120),
              message: text(2000).describe(
                'the ownership statement from GET /v1/participants/{id}/addresses/statement, exactly as signed',
              ),
              signature: text(2000),
            })
            .strict(),
        ]),
        response: { 201: counterpartyAddressSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentCounterpartyAddress(
            await registry.registerCounterpartyAddress(
              callerOf(request, ['supervisor', 'platform']),
              request.params.id,
              request.body,
            ),
          ),
        ),
  );

  app.get(
    '/v1/participants/:id/addresses/statement',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          'The ownership statement a counterparty signs (BIP322) to register a self-hosted address: names the counterparty and the address, issued today, accepted for 30 days',
        params: idParam('par'),
        querystring: z.object({ address: text(120) }).strict(),
        response: {
          200: z.object({ message: z.string(), validUntil: z.string() }),
          ...commonErrors,
        },
      },
    },
    async (request) =>
      registry.ownershipStatement(
        callerOf(request, ['supervisor', 'platform']),
        request.params.id,
        request.query.address,
      ),
  );

  app.get(
    '/v1/participants/:id/addresses',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: "A counterparty's registered addresses",
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        params: idParam('par'),
        querystring: z.object(pageQuery),
        response: { 200: pageSchema(counterpartyAddressSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await registry.listCounterpartyAddresses(callerOf(request), request.params.id, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: page.items.map(presentCounterpartyAddress) };
    },
  );
}
