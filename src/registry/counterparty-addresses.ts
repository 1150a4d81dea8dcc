/*
 * `registerCounterpartyAddress` runs past 60 lines: the ownership check (a registered VASP, or a
 * BIP322 proof over the current ownership statement) and the registering transaction are one
 * flow, kept whole when the registry was split by concern.
 */
import { and, eq } from 'drizzle-orm';
import { parseAddress, verifyBip322Simple } from '../bitcoin';
import { keyset, pageOf, sqlState, UNIQUE_VIOLATION, type Page, type PageRequest } from '../db';
import { AppError, invalid, newId, type Caller } from '../kernel';
import { OWNERSHIP_STATEMENT_VALID_DAYS, ownershipStatement, statementProblem } from './ownership';
import { counterpartyAddresses, vasps } from './schema';
import { type CounterpartyAddressInput, type CounterpartyAddressView } from './types';
import { type RegistryContext, forbidden, VASP_ID } from './shared';
import { counterpartyAddressView } from './views';
import { checkActiveLicence } from './licences';
import type { ParticipantRegistry } from './participants';
import type { AddressOwnerRegistry } from './address-owners';

/** Foreign counterparties' addresses: hosted at a registered VASP, or self-hosted with a BIP322 ownership proof. */
export class CounterpartyAddressRegistry {
  readonly #ctx: RegistryContext;
  readonly #participants: ParticipantRegistry;
  readonly #addressOwners: AddressOwnerRegistry;

  constructor(
    ctx: RegistryContext,
    participants: ParticipantRegistry,
    addressOwners: AddressOwnerRegistry,
  ) {
    this.#ctx = ctx;
    this.#participants = participants;
    this.#addressOwners = addressOwners;
  }

  // ------------------------------------------------------------------ counterparty addresses

  /**
   * The statement the counterparty signs (BIP322) to prove it controls a self-hosted address,
   * for this counterparty and address, issued today.
   */
  async ownershipStatement(
    caller: Caller,
    counterpartyId: string,
    address: string,
  ): Promise<{ message: string; validUntil: string }> {
    const counterparty = await this.#participants.getParticipant(caller, counterpartyId);
    if (counterparty.kind !== 'counterparty') {
      throw invalid(
        'id',
        `ownership statements are for counterparties, not a ${counterparty.kind}`,
      );
    }
    const parsed = parseAddress(address, this.#ctx.network);
    const now = this.#ctx.clock.now();
    const issuedOn = now.toISOString().slice(0, 10);
    const validUntil = new Date(
      Date.parse(`${issuedOn}T00:00:00Z`) + (OWNERSHIP_STATEMENT_VALID_DAYS + 1) * 86_400_000,
    );
    return {
      message: ownershipStatement({ counterpartyId, address: parsed.canonical, issuedOn }),
      validUntil: validUntil.toISOString(),
    };
  }

  async registerCounterpartyAddress(
    caller: Caller,
    counterpartyId: string,
    input: CounterpartyAddressInput,
  ): Promise<CounterpartyAddressView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor') {
      throw forbidden(
        'counterparty addresses are registered by the platform the counterparty belongs to',
      );
    }
    const parsed = parseAddress(input.address, this.#ctx.network);
    const now = this.#ctx.clock.now();
    let proof: { message: string; signature: string; addressType: string } | null = null;
    let vaspId: string | null = null;
    if (input.ownership === 'hosted') {
      // A hosted address is vouched for by a VASP of the registry (screened like any party), named
      // by id: a free-text name proved nothing.
      if (typeof input.vaspId !== 'string' || !VASP_ID.test(input.vaspId)) {
        throw invalid('vaspId', 'must name a registered VASP by its id (vsp_…; see GET /v1/vasps)');
      }
      vaspId = input.vaspId;
    } else if (input.ownership === 'self_hosted') {
      // BIP322: a self-hosted address is shown to be controlled by the counterparty with a simple
      // signature over the message; only a `valid` verdict is accepted (never `inconclusive`).
      // The message must be the ownership statement for this counterparty and address, recent:
      // a signature over anything else could be a replayed proof (see ownership.ts).
      const problem = statementProblem(input.message, {
        counterpartyId,
        address: parsed.canonical,
        now,
      });
      if (problem) {
        throw new AppError('OWNERSHIP_PROOF_INVALID', problem, {
          issues: [{ field: 'message', message: problem }],
        });
      }
      const verdict = verifyBip322Simple({
        address: parsed.canonical,
        message: input.message,
        signatureBase64: input.signature,
        network: this.#ctx.network,
      });
      if (!verdict.valid) {
        throw new AppError(
          'OWNERSHIP_PROOF_INVALID',
          `the BIP322 proof for ${parsed.canonical} does not verify: ${verdict.reason}`,
          {
            issues: [{ field: 'signature', message: verdict.reason }],
          },
        );
      }
      proof = {
        message: input.message,
        signature: input.signature,
        addressType: verdict.addressType,
      };
    } else {
      throw invalid('ownership', 'must be "hosted" or "self_hosted"');
    }
    return this.#ctx.db.transaction(async (tx) => {
      const counterparty = await this.#participants.getParticipant(caller, counterpartyId);
      if (counterparty.kind !== 'counterparty') {
        throw invalid(
          'counterpartyId',
          `addresses are registered for counterparties, not for a ${counterparty.kind}`,
        );
      }
      const platformId = counterparty.platformId ?? '';
      await checkActiveLicence(tx, platformId, now);
      let vasp: typeof vasps.$inferSelect | undefined;
      if (vaspId !== null) {
        [vasp] = await tx.select().from(vasps).where(eq(vasps.id, vaspId));
        if (!vasp) throw invalid('vaspId', `no registered VASP ${vaspId}`);
        if (vasp.licenceStatus !== 'active') {
          throw invalid('vaspId', `VASP ${vaspId}'s licence is ${vasp.licenceStatus}`);
        }
        const hits = await this.#ctx.screener.blockingHits(vasp.id);
        if (hits.length > 0) {
          throw new AppError(
            'SCREENING_HIT_UNRESOLVED',
            `VASP ${vasp.id} has ${hits.length} unresolved or confirmed screening hit(s); no address is registered as hosted there until they are resolved`,
            { issues: [{ field: 'vaspId', message: 'the VASP has unresolved screening hits' }] },
          );
        }
      }
      await this.#addressOwners.claimAddress({
        address: parsed.canonical,
        ownerId: counterpartyId,
        role: 'counterparty_address',
      });
      const row = {
        id: newId('address', now, this.#ctx.random),
        counterpartyId,
        platformId,
        network: this.#ctx.network,
        address: parsed.canonical,
        ownership: input.ownership,
        vaspId: vasp?.id ?? null,
        vaspName: vasp?.name ?? null,
        vaspLei: vasp?.lei ?? null,
        proofMessage: proof?.message ?? null,
        proofSignature: proof?.signature ?? null,
        proofAddressType: proof?.addressType ?? null,
        verifiedAt: now,
        createdAt: now,
      };
      try {
        await tx.insert(counterpartyAddresses).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError(
            'ADDRESS_ALREADY_ASSIGNED',
            `address ${parsed.canonical} is already registered to a counterparty`,
          );
        }
        throw error;
      }
      const view = counterpartyAddressView(row);
      await this.#ctx.audit.record(caller, {
        action: 'counterparty_address.registered',
        entityType: 'participant',
        entityId: counterpartyId,
        after: view,
      });
      await this.#ctx.screener.screen(caller, {
        partyId: counterpartyId,
        platformId,
        kind: counterparty.personType === 'natural' ? 'person' : 'organization',
        addresses: [parsed.canonical],
      });
      return view;
    });
  }

  /**
   * A page of a counterparty's registered addresses, newest first (keyset on created_at, id), for
   * a caller who may see the counterparty.
   */
  async listCounterpartyAddresses(
    caller: Caller,
    counterpartyId: string,
    page: PageRequest = {},
  ): Promise<Page<CounterpartyAddressView>> {
    await this.#participants.getParticipant(caller, counterpartyId);
    const { after, orderBy, read, limit } = keyset(counterpartyAddresses, page);
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(counterpartyAddresses)
      .where(and(eq(counterpartyAddresses.counterpartyId, counterpartyId), after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(counterpartyAddressView));
  }

  /** The registration of a counterparty address (who it belongs to and how ownership was shown), or null. */
  async counterpartyAddress(address: string): Promise<CounterpartyAddressView | null> {
    let canonical: string;
    try {
      canonical = parseAddress(address, this.#ctx.network).canonical;
    } catch {
      return null;
    }
    const [row] = await this.#ctx.db
      .current()
      .select()
      .from(counterpartyAddresses)
      .where(eq(counterpartyAddresses.address, canonical));
    return row ? counterpartyAddressView(row) : null;
  }
}
