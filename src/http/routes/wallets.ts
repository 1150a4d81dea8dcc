import { z } from 'zod';
import { deriveAddress, parseDescriptor } from '../../bitcoin';
import { type Caller } from '../../kernel';
import {
  type CounterpartyAddressView,
  type WalletAddressView,
  type WalletView,
} from '../../registry';
import type { AppDeps, TypedApp } from '../app';
import { callerOf, WRITERS } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

/** Registry routes: companies' watch-only wallets and their addresses, counterparty addresses. */

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

export function registerWalletRoutes(app: TypedApp, deps: AppDeps): void {
  const registry = deps.services.registry;

  /** A wallet the caller may see; another's is not found, exactly like one that does not exist. */
  const visibleWallet = (caller: Caller, id: string): Promise<WalletView> =>
    registry.getWallet(caller, id);

  app.post(
    '/v1/wallets',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          "Register a company's watch-only wallet (descriptor) (its platform): its one wallet, from which invoices take receive addresses and payouts change addresses",
        description:
          "Registers a company's watch-only wallet from an output descriptor (no private keys). Invoices take receive addresses from it, payouts take change addresses from it.",
        body: z
          .object({ companyId: text(40), descriptor: text(4000), label: text(100).optional() })
          .strict()
          .meta({
            examples: [
              {
                companyId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                descriptor:
                  'wpkh([d34db33f/84h/1h/0h]tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*)',
                label: 'treasury',
              },
            ],
          }),
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
        description:
          'Derives the next unused receive address of the wallet and records it as handed out, with an optional purpose.',
        params: idParam('wal'),
        body: z
          .object({ purpose: text(200).nullable().optional() })
          .strict()
          .meta({ examples: [{ purpose: 'deposit from the Hamburg buyer' }] }),
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
        description:
          'One wallet visible to the caller: its descriptor and how many receive and change addresses were handed out.',
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
          200: pageSchema(walletAddressSchema)
            .extend({
              unused: z.array(z.object({ derivationIndex: z.number(), address: z.string() })),
            })
            .meta({ id: 'WalletAddressPage' }),
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
        description:
          'Registers an address of a counterparty: hosted at a registered VASP, or self-hosted and proven by a BIP322 signature over the ownership statement. An address belongs to one owner across the registry and is screened at once.',
        params: idParam('par'),
        body: z
          .discriminatedUnion('ownership', [
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
          ])
          .meta({
            examples: [
              {
                ownership: 'hosted',
                address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx',
                vaspId: 'vsp_01JD8Z6Q3M4N5P6R7S8T9V0W1Z',
              },
            ],
          }),
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
        description:
          'The ownership statement a counterparty signs with BIP322 to register a self-hosted address. It names the counterparty and the address, is dated today and is accepted for 30 days.',
        params: idParam('par'),
        querystring: z.object({ address: text(120) }).strict(),
        response: {
          200: z
            .object({ message: z.string(), validUntil: z.string() })
            .meta({ id: 'OwnershipStatement' }),
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
