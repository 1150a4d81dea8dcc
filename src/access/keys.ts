import { createHash, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { base32nopad } from '@scure/base';
import type { Database, Page, PageRequest } from '../db';
import { keyset, pageOf, scopeTo } from '../db';
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
import { AuditLog } from '../audit';
import { apiKeys, users } from './schema';
import { insertPerson } from './users';
import { KeyCache, type VerifiedKey } from './key-cache';

/** The scheme operator: the participant supervisor and auditor keys are bound to by default. */
export const SCHEME_PARTICIPANT_ID = 'scheme';

const KEY_PREFIX = 'tck';

export interface ApiKeyView {
  id: string;
  /** The person (user id) the key belongs to. */
  personId: string;
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

/** What the registry says about a participant a key would be bound to. */
export interface RegisteredParticipant {
  kind: 'platform' | 'company' | 'miner' | 'counterparty';
  /** For a company or counterparty, its platform. */
  platformId: string | null;
  name: string;
}

/** Looks a participant up in the registry (null when there is none with that id). */
export type ParticipantLookup = (id: string) => Promise<RegisteredParticipant | null>;

export interface KeyServiceDeps {
  db: Database;
  clock: Clock;
  random?: Random;
  participants: ParticipantLookup;
  /** Keys verified recently (see KeyCache); a fresh one with the default bound when absent. */
  keyCache?: KeyCache;
}

/** A request for a key: whose participant and role, and optionally which person. */
export interface KeyRequest {
  role: Role;
  participantId: string;
  platformId?: string | null | undefined;
  name: string;
  /**
   * The person the key is for. Absent: the caller themselves when the key is for the caller's
   * own participant and role, else (the supervisor only) the participant's administrator.
   */
  personId?: string | null | undefined;
  /**
   * The supervisor only: a new person of the participant, named so, who will hold the key (how
   * a platform gets a second officer who holds keys but does not log in).
   */
  personName?: string | null | undefined;
}

/** Where a key issued without the policy goes: an existing person, or a new key-only one. */
export type KeyHolder = { personId: string } | { newPerson: { displayName: string } };

/** A key's binding once checked against the registry. */
interface KeyTarget {
  role: Role;
  participantId: string;
  platformId: string | null;
}

/**
 * Who may create a key for whom (issue 11). The whole table:
 *
 * | caller     | may create a key for                                                        |
 * |------------|-----------------------------------------------------------------------------|
 * | supervisor | any person of a participant registered with the role claimed (platform,     |
 * |            | company of its own platform, miner), or of the scheme (supervisor, auditor) |
 * | platform   | itself: its own person, as an officer of its own platform                   |
 * | company    | itself: its own person, for its own company                                 |
 * | miner      | itself: its own person, for its own miner                                   |
 * | auditor    | nobody (read-only; the supervisor issues auditors' keys)                    |
 *
 * "Itself" is the person, not only the participant: an officer who could mint a key for another
 * officer (or for a new person) could approve as two people, which is what maker-checker
 * forbids. Never for another tenant, a company of another platform, the scheme, a miner, a
 * counterparty or an id the registry does not know; a role must be the participant's own.
 * Returns the reason for a refusal, or null when the caller may go on to the registry check.
 */
export function keyCreationRefusal(
  caller: Pick<Caller, 'role' | 'participantId' | 'platformId' | 'personId'>,
  request: Pick<KeyRequest, 'role' | 'participantId' | 'platformId' | 'personId' | 'personName'>,
): string | null {
  if (caller.role === 'supervisor') return null;
  if (request.personName) return 'only the supervisor creates a person along with a key';
  if (caller.role === 'auditor') return 'the auditor has read-only access and creates no API keys';
  const ownBinding =
    request.role === caller.role &&
    request.participantId === caller.participantId &&
    (request.platformId ?? caller.platformId) === caller.platformId;
  if (!ownBinding) {
    return `a ${caller.role} may create API keys only for itself (role ${caller.role}, participant ${caller.participantId})`;
  }
  if (request.personId && request.personId !== caller.personId) {
    return 'an API key is created by its person for themselves (or by the supervisor)';
  }
  return null;
}

function invalidKey(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, {
    issues: [{ field, message }],
  });
}

/**
 * API keys are 160-bit random secrets, so a fast hash (SHA-256) is enough to store them: unlike a
 * password there is nothing to brute-force. Passwords for people use a slow hash (scrypt).
 */
function hashSecret(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The administrator of a participant for one role: the person the supervisor's keys for that
 * participant belong to unless it names another. A well-known username finds them again; chosen
 * usernames may not contain a colon (UserService.create), so none can take it.
 */
function administratorUsername(key: KeyTarget): string {
  return `administrator:${key.role}@${key.participantId}`;
}

function toView(row: typeof apiKeys.$inferSelect): ApiKeyView {
  if (!isRole(row.role)) throw new AppError('INTERNAL', `api key ${row.id} has an unknown role`);
  return {
    id: row.id,
    personId: row.userId,
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
  readonly #audit: AuditLog;
  readonly #random: Random;
  readonly #participants: ParticipantLookup;
  readonly #cache: KeyCache;

  constructor(deps: KeyServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#audit = new AuditLog(deps);
    this.#random = deps.random ?? cryptoRandom;
    this.#participants = deps.participants;
    this.#cache = deps.keyCache ?? new KeyCache();
  }

  /**
   * Creates a key after checking who may create it for whom (keyCreationRefusal) and that the
   * registry has the participant with the role claimed. The key belongs to a person: the caller
   * for their own key; for a supervisor's key for a participant, the person named by `personId`
   * (a person of that participant with that role) or else the participant's administrator,
   * created on first use ("Scheme administrator" for the scheme's own supervisor keys).
   */
  async create(caller: Caller, input: KeyRequest): Promise<CreatedApiKey> {
    const refusal = keyCreationRefusal(caller, input);
    if (refusal) throw new AppError('FORBIDDEN', refusal);
    const target = await this.#checkTarget(input);
    if (input.personName) {
      if (input.personId) throw invalidKey('personName', 'give either personId or personName');
      return this.issue(
        caller,
        { ...target, name: input.name },
        { newPerson: { displayName: input.personName } },
      );
    }
    const own =
      target.role === caller.role &&
      target.participantId === caller.participantId &&
      target.platformId === caller.platformId;
    const personId = input.personId ?? (own ? caller.personId : null);
    if (personId) {
      const [person] = await this.#db.orm.select().from(users).where(eq(users.id, personId));
      if (
        !person ||
        person.role !== target.role ||
        person.participantId !== target.participantId ||
        person.disabledAt
      ) {
        // Only the supervisor names another person; a caller's own person always matches.
        throw invalidKey(
          'personId',
          `no active person ${personId} with role ${target.role} at ${target.participantId}`,
        );
      }
      return this.issue(caller, { ...target, name: input.name }, { personId });
    }
    return this.issue(caller, { ...target, name: input.name }, { administrator: true });
  }

  /** The key's binding as the registry has it; refuses ids and roles it does not know. */
  async #checkTarget(input: KeyRequest): Promise<KeyTarget> {
    if (input.role === 'supervisor' || input.role === 'auditor') {
      if (input.participantId !== SCHEME_PARTICIPANT_ID) {
        throw invalidKey('participantId', `a ${input.role} key is for "${SCHEME_PARTICIPANT_ID}"`);
      }
      if (input.platformId) throw invalidKey('platformId', `a ${input.role} key has no platform`);
      return { role: input.role, participantId: SCHEME_PARTICIPANT_ID, platformId: null };
    }
    const registered =
      input.participantId === SCHEME_PARTICIPANT_ID
        ? null
        : await this.#participants(input.participantId);
    if (!registered) {
      throw invalidKey('participantId', `no registered participant ${input.participantId}`);
    }
    if (registered.kind !== input.role) {
      throw invalidKey(
        'role',
        `${input.participantId} is registered as a ${registered.kind}, not a ${input.role}`,
      );
    }
    const platformId = input.role === 'platform' ? input.participantId : registered.platformId;
    if (input.platformId && input.platformId !== platformId) {
      throw invalidKey(
        'platformId',
        `${input.participantId} belongs to ${platformId ?? 'no platform'}, not ${input.platformId}`,
      );
    }
    return { role: input.role, participantId: input.participantId, platformId };
  }

  /**
   * Issues a key to a person, with NO authorization check: the caller is create() (after its
   * checks) or code that holds the database itself (tests). Never reachable from a route.
   * `administrator` finds (or creates) the participant's administrator for that role.
   */
  async issue(
    caller: Caller,
    key: KeyTarget & { name: string },
    holder: KeyHolder | { administrator: true },
  ): Promise<CreatedApiKey> {
    const now = this.#clock.now();
    const id = newId('apiKey', now, this.#random);
    const secret = base32nopad.encode(this.#random.bytes(20)).toLowerCase();
    const token = `${KEY_PREFIX}_${id}_${secret}`;
    // Read before the transaction: on the embedded database a read outside it would wait for it.
    const administratorName = 'administrator' in holder ? await this.#administratorName(key) : null;
    return this.#db.transaction(async (tx) => {
      let personId: string;
      let newPerson: string | null = null;
      if ('personId' in holder) {
        personId = holder.personId;
      } else {
        const administrator = 'administrator' in holder;
        const username = administrator ? administratorUsername(key) : null;
        const [existing] = username
          ? await tx.select({ id: users.id }).from(users).where(eq(users.username, username))
          : [];
        if (existing) {
          personId = existing.id;
        } else {
          newPerson =
            'newPerson' in holder ? holder.newPerson.displayName : (administratorName ?? '');
          personId = await insertPerson(
            tx,
            {
              displayName: newPerson,
              role: key.role,
              participantId: key.participantId,
              platformId: key.platformId,
              username,
            },
            now,
            this.#random,
          );
        }
      }
      const row = {
        id,
        userId: personId,
        participantId: key.participantId,
        platformId: key.platformId,
        role: key.role,
        name: key.name,
        secretHash: hashSecret(token),
        createdAt: now,
        createdBy: caller.actorId,
        revokedAt: null,
      };
      await tx.insert(apiKeys).values(row);
      await this.#audit.record(caller, {
        action: 'apiKey.created',
        entityType: 'apiKey',
        entityId: id,
        after: {
          role: row.role,
          participantId: row.participantId,
          platformId: row.platformId,
          name: row.name,
          personId,
          // A person created for this key is recorded here, in the same event.
          ...(newPerson !== null ? { personCreated: newPerson } : {}),
        },
      });
      return { ...toView(row), token };
    });
  }

  async #administratorName(key: KeyTarget): Promise<string> {
    if (key.participantId === SCHEME_PARTICIPANT_ID) {
      return key.role === 'supervisor' ? 'Scheme administrator' : 'Scheme auditor';
    }
    const registered = await this.#participants(key.participantId);
    return `Administrator of ${registered?.name ?? key.participantId}`;
  }

  /**
   * Resolves a presented token to its caller, or throws UNAUTHENTICATED. A key verified within
   * the last second (KEY_CACHE_MS) is not read again: the presented secret is still hashed and
   * compared, and a revocation through this service takes effect at once (see KeyCache).
   */
  async authenticate(token: string, requestId: string | null): Promise<Caller> {
    const match = /^tck_(key_[0-9A-Z]{26})_[a-z2-7]{32}$/.exec(token);
    if (!match) throw new AppError('UNAUTHENTICATED', 'the API key is malformed');
    const keyId = match[1] ?? '';
    const presented = Buffer.from(hashSecret(token), 'hex');
    const key = this.#cache.get(keyId) ?? (await this.#verify(keyId, presented));
    if (!timingSafeEqual(presented, Buffer.from(key.secretHash, 'hex'))) {
      throw new AppError('UNAUTHENTICATED', 'the API key is unknown or revoked');
    }
    return {
      role: key.role,
      participantId: key.participantId,
      platformId: key.platformId,
      actorId: key.keyId,
      personId: key.personId,
      requestId,
    };
  }

  /** Reads a key and checks it (not revoked, its person not disabled, the secret), then keeps it. */
  async #verify(keyId: string, presented: Buffer): Promise<VerifiedKey> {
    const generation = this.#cache.generation();
    const [found] = await this.#db.orm
      .select({ key: apiKeys, disabledAt: users.disabledAt })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(eq(apiKeys.id, keyId));
    const row = found?.key;
    if (!row || row.revokedAt || !timingSafeEqual(presented, Buffer.from(row.secretHash, 'hex'))) {
      throw new AppError('UNAUTHENTICATED', 'the API key is unknown or revoked');
    }
    // A person who is disabled is disabled through every credential.
    if (found.disabledAt)
      throw new AppError('UNAUTHENTICATED', 'the API key is unknown or revoked');
    const view = toView(row);
    const key: VerifiedKey = {
      keyId: view.id,
      secretHash: row.secretHash,
      role: view.role,
      participantId: view.participantId,
      platformId: view.platformId,
      personId: view.personId,
    };
    this.#cache.store(key, generation);
    return key;
  }

  /** A page of the API keys visible to the caller, newest first (keyset on created_at, id). */
  async list(caller: Caller, page: PageRequest = {}): Promise<Page<ApiKeyView>> {
    const { after, orderBy, read, limit } = keyset(apiKeys, page);
    const rows = await this.#db
      .current()
      .select()
      .from(apiKeys)
      .where(
        and(
          scopeTo(caller, { participant: apiKeys.participantId, platform: apiKeys.platformId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(toView));
  }

  /** One key the caller may see, read in the caller's unit of work (the pool outside one). */
  async get(caller: Caller, id: string): Promise<ApiKeyView> {
    const [row] = await this.#db
      .current()
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
    const revoked = await this.#db.transaction(async (tx) => {
      const before = await this.get(caller, id);
      if (before.revokedAt) return before;
      const now = this.#clock.now();
      await tx
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
      await this.#audit.record(caller, {
        action: 'apiKey.revoked',
        entityType: 'apiKey',
        entityId: id,
        before: { revokedAt: null },
        after: { revokedAt: now },
      });
      return { ...before, revokedAt: now };
    });
    // Once committed, not before: an authentication reading the key meanwhile stores nothing.
    this.#cache.forget(id);
    return revoked;
  }
}
