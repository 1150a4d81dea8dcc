import { createHash, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { base32nopad } from '@scure/base';
import type { Database, Orm } from '../db';
import { scopeTo } from '../db';
import {
  AppError,
  cryptoRandom,
  isRole,
  newId,
  type Caller,
  type Clock,
  type Random,
  type Role,
} from '../kernel';
import { recordAudit } from '../audit';
import { apiKeys } from './schema';

/** The scheme operator: the participant supervisor and auditor keys are bound to by default. */
export const SCHEME_PARTICIPANT_ID = 'scheme';

const KEY_PREFIX = 'tck';

export interface ApiKeyView {
  id: string;
  participantId: string;
  platformId: string | null;
  role: Role;
  name: string;
  createdAt: Date;
  createdBy: string;
  revokedAt: Date | null;
}

export interface CreatedApiKey extends ApiKeyView {
  /** The full secret, shown once: `tck_<keyId>_<secret>`. */
  token: string;
}

export interface KeyServiceDeps {
  db: Database;
  clock: Clock;
  random?: Random;
}

/**
 * API keys are 160-bit random secrets, so a fast hash (SHA-256) is enough to store them: unlike a
 * password there is nothing to brute-force. Passwords for people use a slow hash (scrypt).
 */
function hashSecret(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function toView(row: typeof apiKeys.$inferSelect): ApiKeyView {
  if (!isRole(row.role)) throw new AppError('INTERNAL', `api key ${row.id} has an unknown role`);
  return {
    id: row.id,
    participantId: row.participantId,
    platformId: row.platformId,
    role: row.role,
    name: row.name,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    revokedAt: row.revokedAt,
  };
}

export class KeyService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(deps: KeyServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#random = deps.random ?? cryptoRandom;
  }

  /**
   * Creates a key. The supervisor may create keys for anyone; a platform for itself and its
   * clients (`platformId` must be its own); nobody else creates keys.
   */
  async create(
    caller: Caller,
    input: { role: Role; participantId: string; platformId?: string | null; name: string },
  ): Promise<CreatedApiKey> {
    if (caller.role !== 'supervisor' && caller.role !== 'platform') {
      throw new AppError('FORBIDDEN', `a ${caller.role} may not create API keys`);
    }
    if (caller.role === 'platform') {
      const ownPlatform = caller.participantId;
      const targetPlatform = input.role === 'platform' ? input.participantId : input.platformId;
      if (!['platform', 'company'].includes(input.role) || targetPlatform !== ownPlatform) {
        throw new AppError(
          'FORBIDDEN',
          'a platform may create keys only for itself and its client companies',
        );
      }
    }
    const platformId = input.role === 'platform' ? input.participantId : (input.platformId ?? null);
    if (input.role === 'company' && !platformId) {
      throw new AppError(
        'VALIDATION_FAILED',
        'platformId: a company key needs the platform it is a client of',
        {
          issues: [{ field: 'platformId', message: 'is required for a company key' }],
        },
      );
    }
    const now = this.#clock.now();
    const id = newId('apiKey', now, this.#random);
    const secret = base32nopad.encode(this.#random.bytes(20)).toLowerCase();
    const token = `${KEY_PREFIX}_${id}_${secret}`;
    const row = {
      id,
      participantId: input.participantId,
      platformId,
      role: input.role,
      name: input.name,
      secretHash: hashSecret(token),
      createdAt: now,
      createdBy: caller.actorId,
      revokedAt: null,
    };
    await this.#db.transaction(async (tx) => {
      await tx.insert(apiKeys).values(row);
      await recordAudit(tx, caller, this.#clock, {
        action: 'apiKey.created',
        entityType: 'apiKey',
        entityId: id,
        after: { role: row.role, participantId: row.participantId, platformId, name: row.name },
      });
    });
    return { ...toView(row), token };
  }

  /** Resolves a presented token to its caller, or throws UNAUTHENTICATED. */
  async authenticate(token: string, requestId: string | null): Promise<Caller> {
    const match = /^tck_(key_[0-9A-Z]{26})_[a-z2-7]{32}$/.exec(token);
    if (!match) throw new AppError('UNAUTHENTICATED', 'the API key is malformed');
    const [row] = await this.#db.orm
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.id, match[1] ?? ''));
    const presented = Buffer.from(hashSecret(token), 'hex');
    if (!row || row.revokedAt || !timingSafeEqual(presented, Buffer.from(row.secretHash, 'hex'))) {
      throw new AppError('UNAUTHENTICATED', 'the API key is unknown or revoked');
    }
    const view = toView(row);
    return {
      role: view.role,
      participantId: view.participantId,
      platformId: view.platformId,
      actorId: view.id,
      // Until keys are bound to people, a key counts as its own person.
      personId: view.id,
      requestId,
    };
  }

  async list(caller: Caller, orm: Orm = this.#db.orm): Promise<ApiKeyView[]> {
    const rows = await orm
      .select()
      .from(apiKeys)
      .where(scopeTo(caller, { participant: apiKeys.participantId, platform: apiKeys.platformId }))
      .orderBy(desc(apiKeys.createdAt));
    return rows.map(toView);
  }

  async get(caller: Caller, id: string, orm: Orm = this.#db.orm): Promise<ApiKeyView> {
    const [row] = await orm
      .select()
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.id, id),
          scopeTo(caller, { participant: apiKeys.participantId, platform: apiKeys.platformId }),
        ),
      );
    // A row the caller may not see is reported exactly like one that does not exist.
    if (!row) throw new AppError('NOT_FOUND', `no API key ${id}`);
    return toView(row);
  }

  async revoke(caller: Caller, id: string): Promise<ApiKeyView> {
    if (caller.role === 'auditor')
      throw new AppError('FORBIDDEN', 'the auditor has read-only access');
    return this.#db.transaction(async (tx) => {
      const before = await this.get(caller, id, tx);
      if (before.revokedAt) return before;
      const now = this.#clock.now();
      await tx
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
      await recordAudit(tx, caller, this.#clock, {
        action: 'apiKey.revoked',
        entityType: 'apiKey',
        entityId: id,
        before: { revokedAt: null },
        after: { revokedAt: now },
      });
      return { ...before, revokedAt: now };
    });
  }
}
