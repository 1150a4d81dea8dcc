/*
 * `registerWallet` and `#handOut` run a little past 60 lines: each is one checked write (the
 * descriptor's branches; the locked wallet row, the claim and the index), kept whole when the
 * registry was split by concern.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import {
  deriveAddress,
  descriptorToString,
  parseDescriptor,
  CHANGE,
  RECEIVE,
  type Branch,
  type Descriptor,
  type DerivedOutput,
} from '../bitcoin';
import {
  keyset,
  keysetOn,
  pageOf,
  noteLock,
  scopeTo,
  sqlState,
  UNIQUE_VIOLATION,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import { AppError, invalid, newId, type Caller, type NetworkName } from '../kernel';
import { walletAddresses, wallets } from './schema';
import { optionalText } from './validate';
import { type WalletAddressOwner, type WalletAddressView, type WalletView } from './types';
import { type RegistryContext, forbidden } from './shared';
import { walletView, branchName, walletAddressView, walletAddressOwner } from './views';
import { checkActiveLicence } from './licences';
import type { ParticipantRegistry } from './participants';
import type { AddressOwnerRegistry } from './address-owners';

/**
 * Company wallets: one watch-only descriptor per company, the addresses handed out from it
 * (receive and change), and the lookups trade makes (whose address, how to sign for it).
 */
export class WalletRegistry {
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

  // ------------------------------------------------------------------ wallets

  /**
   * Registers a company's watch-only wallet: the company's one wallet, from which invoices take
   * their receive addresses and payouts their change addresses. Registered once (CONFLICT when
   * the company already has one).
   */
  async registerWallet(
    caller: Caller,
    input: { companyId: string; descriptor: string; label?: string | undefined },
  ): Promise<WalletView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor') {
      throw forbidden('company wallets are registered by their platform');
    }
    let descriptor: Descriptor;
    try {
      descriptor = parseDescriptor(input.descriptor, this.#ctx.network);
      // The wallet must give receive and change addresses (BIP44 change = 0 and 1): ranged, with
      // a receive step (…/0/*, whose change branch is …/1/*, or …/<0;1>/*), and outputs that
      // have an address.
      for (const branch of [0, 1] as const) {
        if (!deriveAddress(descriptor, branch, 0).address)
          throw new AppError('INVALID_DESCRIPTOR', 'it derives outputs without an address');
      }
    } catch (error) {
      if (error instanceof AppError) {
        throw new AppError(error.code, `descriptor: ${error.message}`, {
          issues: [{ field: 'descriptor', message: error.message }],
        });
      }
      throw error;
    }
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      const company = await this.#participants.getParticipant(caller, input.companyId);
      if (company.kind !== 'company')
        throw invalid(
          'companyId',
          `wallets are registered for companies, not for a ${company.kind}`,
        );
      const platformId = company.platformId ?? '';
      await checkActiveLicence(tx, platformId, now);
      const row = {
        id: newId('wallet', now, this.#ctx.random),
        companyId: company.id,
        platformId,
        network: this.#ctx.network,
        descriptor: descriptorToString(descriptor),
        label: optionalText(input.label, 'label', 100) ?? 'default',
        nextIndex: 0,
        nextChangeIndex: 0,
        createdAt: now,
      };
      try {
        await tx.insert(wallets).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION)
          throw new AppError('CONFLICT', `company ${company.id} already has a wallet`);
        throw error;
      }
      const view = walletView(row);
      await this.#ctx.audit.record(caller, {
        action: 'wallet.registered',
        entityType: 'wallet',
        entityId: row.id,
        after: view,
      });
      return view;
    });
  }

  /** A page of the wallets visible to the caller, newest first (keyset on created_at, id). */
  async listWallets(
    caller: Caller,
    filter: { companyId?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<WalletView>> {
    const { after, orderBy, read, limit } = keyset(wallets, page);
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(wallets)
      .where(
        and(
          filter.companyId ? eq(wallets.companyId, filter.companyId) : undefined,
          scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(walletView));
  }

  /** One wallet the caller may see; another's is not found, exactly like one that does not exist. */
  async getWallet(caller: Caller, id: string): Promise<WalletView> {
    const [row] = await this.#ctx.db
      .current()
      .select()
      .from(wallets)
      .where(
        and(
          eq(wallets.id, id),
          scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
        ),
      );
    if (!row) throw new AppError('NOT_FOUND', `no wallet ${id} visible to you`);
    return walletView(row);
  }

  /**
   * Derives the company's next receive address (BIP44 receive branch, next unused index), records
   * it as used, and returns it, inside the caller's unit of work (refused outside one): the
   * address is handed out exactly when the caller's own write (an invoice) commits, and never
   * again. The wallet row is locked so that two concurrent invoices never get the same address.
   */
  async nextReceiveAddress(
    companyId: string,
    purpose: string | null = null,
  ): Promise<WalletAddressView> {
    return this.#handOut(
      this.#ctx.db.currentUnit('nextReceiveAddress'),
      companyId,
      RECEIVE,
      purpose,
    );
  }

  /**
   * The company's next change address (BIP44 change branch), recorded as used inside the caller's
   * unit of work (a payout batch), under the same lock and rules as receive addresses.
   */
  async nextChangeAddress(
    companyId: string,
    purpose: string | null = null,
  ): Promise<WalletAddressView> {
    return this.#handOut(this.#ctx.db.currentUnit('nextChangeAddress'), companyId, CHANGE, purpose);
  }

  /**
   * Locks the companies' wallet rows (by company id, one order for all) until the caller's unit
   * of work ends (refused outside one).
   */
  async lockWallets(companyIds: readonly string[]): Promise<void> {
    const tx = this.#ctx.db.currentUnit('lockWallets');
    if (companyIds.length === 0) return;
    for (const id of companyIds) noteLock(tx, 'wallet', id);
    await tx
      .select({ id: wallets.id })
      .from(wallets)
      .where(inArray(wallets.companyId, [...companyIds]))
      .orderBy(asc(wallets.companyId))
      .for('update');
  }

  /**
   * Hands out the next address of `branch` under the wallet row's lock, held until the caller's
   * transaction ends. Callers take it before the audit head (before any audited write, e.g. the
   * policy gate's): every writer then takes the two in the same order and none waits for another.
   */
  async #handOut(
    tx: Orm,
    companyId: string,
    branch: Branch,
    purpose: string | null,
  ): Promise<WalletAddressView> {
    noteLock(tx, 'wallet', companyId);
    const [wallet] = await tx
      .select()
      .from(wallets)
      .where(eq(wallets.companyId, companyId))
      .for('update');
    if (!wallet)
      throw new AppError(
        'CONFLICT',
        `company ${companyId} has no registered wallet; its platform registers one first (POST /v1/wallets)`,
      );
    const index = branch === RECEIVE ? wallet.nextIndex : wallet.nextChangeIndex;
    // BIP32: unhardened children only, 0 … 2^31 − 1.
    if (index >= 0x7fffffff)
      throw new AppError(
        'CONFLICT',
        `wallet ${wallet.id} has handed out every ${branchName(branch)} address`,
      );
    const derived = deriveAddress(
      parseDescriptor(wallet.descriptor, wallet.network as NetworkName),
      branch,
      index,
    );
    if (!derived.address)
      throw new AppError(
        'INVALID_DESCRIPTOR',
        `wallet ${wallet.id} derives outputs without addresses`,
      );
    const row = {
      id: newId('address', this.#ctx.clock.now(), this.#ctx.random),
      walletId: wallet.id,
      companyId,
      platformId: wallet.platformId,
      branch,
      derivationIndex: index,
      address: derived.address,
      purpose,
      usedAt: this.#ctx.clock.now(),
    };
    // One address, one owner: an address another owner registered is never handed out to a company.
    await this.#addressOwners.claimAddress({
      address: derived.address,
      ownerId: companyId,
      role: 'company_wallet',
    });
    try {
      await tx.insert(walletAddresses).values(row);
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION)
        throw new AppError(
          'ADDRESS_ALREADY_ASSIGNED',
          `address ${derived.address} (${branchName(branch)} ${index} of wallet ${wallet.id}) was handed out before; it is not handed out again`,
        );
      throw error;
    }
    await tx
      .update(wallets)
      .set(branch === RECEIVE ? { nextIndex: index + 1 } : { nextChangeIndex: index + 1 })
      .where(eq(wallets.id, wallet.id));
    return walletAddressView(row);
  }

  /** For the HTTP API: hands out the next receive address of a company, as its own transaction. */
  async deriveReceiveAddress(
    caller: Caller,
    walletId: string,
    purpose: string | null,
  ): Promise<WalletAddressView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor' && caller.role !== 'company') {
      throw forbidden(`a ${caller.role} cannot derive wallet addresses`);
    }
    return this.#ctx.db.transaction(async (tx) => {
      const [wallet] = await tx
        .select()
        .from(wallets)
        .where(
          and(
            eq(wallets.id, walletId),
            scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
          ),
        );
      if (!wallet) throw new AppError('NOT_FOUND', `no wallet ${walletId} visible to you`);
      await checkActiveLicence(tx, wallet.platformId, this.#ctx.clock.now());
      const address = await this.nextReceiveAddress(
        wallet.companyId,
        optionalText(purpose, 'purpose', 200),
      );
      await this.#ctx.audit.record(caller, {
        action: 'wallet.address_derived',
        entityType: 'wallet',
        entityId: walletId,
        after: address,
      });
      return address;
    });
  }

  /** The addresses a wallet has handed out, receive then change, each by index. */
  async listWalletAddresses(
    caller: Caller,
    walletId: string,
    filter: { branch?: 0 | 1 | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<WalletAddressView>> {
    const [wallet] = await this.#ctx.db
      .current()
      .select()
      .from(wallets)
      .where(
        and(
          eq(wallets.id, walletId),
          scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
        ),
      );
    if (!wallet) throw new AppError('NOT_FOUND', `no wallet ${walletId} visible to you`);
    // Receive then change, each by index: the wallet's (wallet, branch, index) unique index.
    const key = keysetOn<typeof walletAddresses.$inferSelect>(
      [
        { column: walletAddresses.branch, kind: 'int', value: (row) => row.branch },
        {
          column: walletAddresses.derivationIndex,
          kind: 'int',
          value: (row) => row.derivationIndex,
        },
      ],
      'asc',
      page,
    );
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(walletAddresses)
      .where(
        and(
          eq(walletAddresses.walletId, walletId),
          filter.branch === undefined ? undefined : eq(walletAddresses.branch, filter.branch),
          key.after,
        ),
      )
      .orderBy(...key.orderBy)
      .limit(key.read);
    return key.page(rows, (shown) => shown.map(walletAddressView));
  }

  /**
   * Which of `addresses` are company wallet addresses handed out, with their wallet, branch and
   * index (the chain consumer's question for every block: whose coins are these?).
   */
  async walletAddressOwners(
    addresses: readonly string[],
  ): Promise<Map<string, WalletAddressOwner>> {
    if (addresses.length === 0) return new Map();
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(walletAddresses)
      .where(inArray(walletAddresses.address, [...addresses]));
    return new Map(rows.map((row) => [row.address, walletAddressOwner(row)]));
  }

  /**
   * The scripts and key paths of a handed-out wallet address (its wallet's descriptor at its
   * branch and index), for building and signing a PSBT that spends from it. NOT_FOUND when the
   * address is no company wallet's.
   */
  async walletAddressDerivation(address: string): Promise<DerivedOutput> {
    const [row] = await this.#ctx.db
      .current()
      .select({
        walletId: wallets.id,
        network: wallets.network,
        descriptor: wallets.descriptor,
        branch: walletAddresses.branch,
        index: walletAddresses.derivationIndex,
      })
      .from(walletAddresses)
      .innerJoin(wallets, eq(wallets.id, walletAddresses.walletId))
      .where(eq(walletAddresses.address, address));
    if (!row) throw new AppError('NOT_FOUND', `address ${address} is not a company wallet address`);
    const branch: Branch = row.branch === 1 ? CHANGE : RECEIVE;
    const derived = deriveAddress(
      parseDescriptor(row.descriptor, row.network as NetworkName),
      branch,
      row.index,
    );
    // A coin is signed for only with the keys that derive its very address.
    if (derived.address !== address)
      throw new AppError(
        'INTERNAL',
        `address ${address} is recorded as ${branchName(branch)} ${row.index} of wallet ${row.walletId}, whose descriptor derives ${derived.address ?? 'no address'} there`,
      );
    return derived;
  }

  /**
   * Every address the companies' wallets have handed out (receive and change), per company, in
   * one query through the addresses' company index (reconciliation's page of companies).
   */
  async walletAddressesOfCompanies(companyIds: readonly string[]): Promise<Map<string, string[]>> {
    const byCompany = new Map<string, string[]>(companyIds.map((id) => [id, []]));
    if (companyIds.length === 0) return byCompany;
    const rows = await this.#ctx.db
      .current()
      .select({ companyId: walletAddresses.companyId, address: walletAddresses.address })
      .from(walletAddresses)
      .where(inArray(walletAddresses.companyId, [...new Set(companyIds)]))
      .orderBy(
        asc(walletAddresses.companyId),
        asc(walletAddresses.branch),
        asc(walletAddresses.derivationIndex),
      );
    for (const r of rows) byCompany.get(r.companyId)?.push(r.address);
    return byCompany;
  }
}
