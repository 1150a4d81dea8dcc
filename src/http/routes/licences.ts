import { z } from 'zod';
import {
  KYC_STATUSES,
  LICENCE_STATUSES,
  RISK_LEVELS,
  formatBasisPoints,
  type KycView,
  type LicenceView,
} from '../../registry';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { nameField, namesOf } from '../names';
import { commonErrors, idListQuery, idParam, pageQuery, pageSchema, searchQuery } from '../schemas';

/** Registry routes: licences of platforms and miners, KYC/KYB records of companies and counterparties. */

const iso = (d: Date | null) => d?.toISOString() ?? null;

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

const text = (max: number) => z.string().max(max);

export function registerLicenceRoutes(app: TypedApp, deps: AppDeps): void {
  const registry = deps.services.registry;

  app.post(
    '/v1/licences',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary: 'Grant a licence to a platform or miner (supervisor)',
        description:
          'Grants a platform or miner a licence of a kind and scope, valid from a date (and optionally to one).',
        body: z
          .object({
            participantId: text(40),
            kind: text(100),
            scope: text(500),
            validFrom: text(40),
            validTo: text(40).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                participantId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
                kind: 'payment-platform',
                scope: 'settlement of trade invoices and payouts',
                validFrom: '2026-01-01',
                validTo: '2028-12-31',
              },
            ],
          }),
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
        description:
          "Newest first, a page at a time: pass `nextCursor` as `cursor` for the next. `q` keeps the licences of the participants whose legal name starts with it (a market picker's search); `participantIds` keeps the licences of the listed participants (name lookups).",
        querystring: z.object({
          participantId: text(40).optional(),
          participantIds: idListQuery(
            'par',
            'participant ids separated by commas (at most 500): their licences the caller may see, a name lookup',
          ),
          kind: text(100).optional().describe('the kind of licence, as granted (vasp, mining)'),
          q: searchQuery.describe(
            "a prefix of the licensed participant's legal name, whatever its case: a picker's search",
          ),
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
        description:
          'Moves a licence between active, suspended, revoked and expired, with a reason kept in its history.',
        params: idParam('lic'),
        body: z
          .object({
            status: z.enum(['active', 'suspended', 'revoked', 'expired']),
            reason: text(500).nullable().optional(),
          })
          .strict()
          .meta({ examples: [{ status: 'suspended', reason: 'annual audit report overdue' }] }),
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
        description:
          "Records or updates a company's or counterparty's KYC/KYB: risk rating, review date, beneficial owners and documents. Verification is refused while the party has an open or confirmed screening hit.",
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
          .strict()
          .meta({
            examples: [
              {
                status: 'verified',
                riskRating: 'low',
                reviewDue: '2027-06-30',
                beneficialOwners: [
                  { name: 'Ana Souza', country: 'BR', share: '60', dateOfBirth: '1980-04-12' },
                ],
                documents: [
                  { type: 'company-registration', number: '12.345.678/0001-90', issuer: 'JUCESP' },
                ],
                reason: null,
              },
            ],
          }),
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
        description:
          'The KYC/KYB record of a participant visible to the caller, as its platform recorded it.',
        params: idParam('par'),
        response: { 200: kycSchema, ...commonErrors },
      },
    },
    async (request) => presentKyc(await registry.getKyc(callerOf(request), request.params.id)),
  );
}
