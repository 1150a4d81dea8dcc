import { createHash, randomBytes as nodeRandomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { base32nopad } from '@scure/base';
import {
  keyset,
  pageOf,
  sqlState,
  UNIQUE_VIOLATION,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
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
import { sessions, users } from './schema';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** scrypt parameters (RFC 7914); N = 2^15 takes ~50–100 ms on our machines: slow on purpose. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const SESSION_HOURS = 12;

export async function hashPassword(
  password: string,
  salt: Buffer = nodeRandomBytes(16),
): Promise<string> {
  const derived = await scryptAsync(password.normalize('NFKC'), salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${derived.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const derived = await scryptAsync(
    password.normalize('NFKC'),
    Buffer.from(salt, 'base64'),
    expected.length,
    {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: SCRYPT.maxmem,
    },
  );
  return timingSafeEqual(derived, expected);
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  participantId: string;
  platformId: string | null;
  totpEnabled: boolean;
}

function toView(row: typeof users.$inferSelect): UserView {
  if (!isRole(row.role)) throw new AppError('INTERNAL', `user ${row.id} has an unknown role`);
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    role: row.role,
    participantId: row.participantId,
    platformId: row.platformId,
    totpEnabled: row.totpSecret !== null,
  };
}

/** A person as an API key needs them: who they are and which participant they act for. */
export interface PersonInput {
  displayName: string;
  role: Role;
  participantId: string;
  platformId: string | null;
}

/**
 * Inserts a person who holds API keys only: no password (login refuses them), their own id as
 * username (it can never collide with a chosen one). The caller audits the creation.
 */
export async function insertPerson(
  tx: Orm,
  input: PersonInput & { username?: string | null },
  now: Date,
  random: Random,
): Promise<string> {
  const id = newId('user', now, random);
  await tx.insert(users).values({
    id,
    username: input.username ?? id,
    displayName: input.displayName,
    passwordHash: null,
    role: input.role,
    participantId: input.participantId,
    platformId: input.platformId,
    totpSecret: null,
    createdAt: now,
    disabledAt: null,
  });
  return id;
}

export class UserService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #random: Random;

  constructor(deps: { db: Database; clock: Clock; random?: Random }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#audit = new AuditLog(deps);
    this.#random = deps.random ?? cryptoRandom;
  }

  async create(
    caller: Caller,
    input: {
      username: string;
      displayName: string;
      password: string;
      role: Role;
      participantId: string;
      platformId?: string | null;
      totp?: boolean;
    },
  ): Promise<UserView & { totpSecret: string | null }> {
    if (caller.role !== 'supervisor')
      throw new AppError('FORBIDDEN', 'only the supervisor creates user accounts');
    // Colons are kept for the usernames of key-only people (`administrator:<role>@<participant>`).
    if (input.username.includes(':')) {
      throw new AppError('VALIDATION_FAILED', 'username: must not contain ":"', {
        issues: [{ field: 'username', message: 'must not contain ":"' }],
      });
    }
    if (input.password.length < 12) {
      throw new AppError('VALIDATION_FAILED', 'password: must be at least 12 characters', {
        issues: [{ field: 'password', message: 'must be at least 12 characters' }],
      });
    }
    const now = this.#clock.now();
    const totpSecret = input.totp ? base32nopad.encode(this.#random.bytes(20)) : null;
    const row = {
      id: newId('user', now, this.#random),
      username: input.username.toLowerCase(),
      displayName: input.displayName,
      passwordHash: await hashPassword(input.password, Buffer.from(this.#random.bytes(16))),
      role: input.role,
      participantId: input.participantId,
      platformId: input.role === 'platform' ? input.participantId : (input.platformId ?? null),
      totpSecret,
      createdAt: now,
      disabledAt: null,
    };
    try {
      await this.#db.transaction(async (tx) => {
        await tx.insert(users).values(row);
        await this.#audit.record(caller, {
          action: 'user.created',
          entityType: 'user',
          entityId: row.id,
          after: {
            username: row.username,
            role: row.role,
            participantId: row.participantId,
            totp: totpSecret !== null,
          },
        });
      });
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) {
        throw new AppError('CONFLICT', `username "${row.username}" is taken`, {
          issues: [{ field: 'username', message: 'is taken' }],
        });
      }
      throw error;
    }
    return { ...toView(row), totpSecret };
  }

  /**
   * Checks the password (and the TOTP code when the user has a second factor) and opens a
   * session. Every failure gives the same message, so it does not tell which part was wrong.
   */
  async login(input: {
    username: string;
    password: string;
    totpCode?: string | undefined;
  }): Promise<{
    token: string;
    user: UserView;
    expiresAt: Date;
  }> {
    const refused = () =>
      new AppError('UNAUTHENTICATED', 'unknown username, wrong password or wrong code');
    const [row] = await this.#db.orm
      .select()
      .from(users)
      .where(eq(users.username, input.username.toLowerCase()));
    // Hash even for an unknown user so the response time does not reveal which usernames exist.
    // A person who only holds API keys has no password and never logs in.
    const ok = row?.passwordHash
      ? await verifyPassword(input.password, row.passwordHash)
      : await hashPassword(input.password).then(() => false);
    if (!row || !ok || row.disabledAt) throw refused();
    if (row.totpSecret) {
      const totp = new TOTP({ secret: Secret.fromBase32(row.totpSecret), digits: 6, period: 30 });
      const delta = input.totpCode
        ? totp.validate({
            token: input.totpCode,
            timestamp: this.#clock.now().getTime(),
            window: 1,
          })
        : null;
      if (delta === null) throw refused();
    }
    const now = this.#clock.now();
    const token = base32nopad.encode(this.#random.bytes(32)).toLowerCase();
    const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000);
    const id = newId('session', now, this.#random);
    const user = toView(row);
    await this.#db.transaction(async (tx) => {
      await tx
        .insert(sessions)
        .values({ id, tokenHash: hashToken(token), userId: row.id, createdAt: now, expiresAt });
      await this.#audit.record(
        {
          role: user.role,
          participantId: user.participantId,
          platformId: user.platformId,
          actorId: user.id,
          personId: user.id,
          requestId: null,
        },
        { action: 'session.opened', entityType: 'session', entityId: id },
      );
    });
    return { token, user, expiresAt };
  }

  async authenticateSession(
    token: string,
    requestId: string | null,
  ): Promise<{ caller: Caller; user: UserView } | null> {
    if (!/^[a-z2-7]{52}$/.test(token)) return null;
    const [found] = await this.#db.orm
      .select({ user: users, session: sessions })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          eq(sessions.tokenHash, hashToken(token)),
          gt(sessions.expiresAt, this.#clock.now()),
          isNull(users.disabledAt),
        ),
      );
    if (!found) return null;
    const user = toView(found.user);
    return {
      user,
      caller: {
        role: user.role,
        participantId: user.participantId,
        platformId: user.platformId,
        actorId: user.id,
        personId: user.id,
        requestId,
      },
    };
  }

  /**
   * The people of a role who can act (not disabled), newest first: whom a supervisor's case can be
   * assigned to. Names and ids only; the caller checks who may read them.
   */
  async staff(
    role: Role,
    page: PageRequest = {},
  ): Promise<Page<{ id: string; username: string; displayName: string }>> {
    const { after, orderBy, read, limit } = keyset(users, page);
    const rows = await this.#db.orm
      .select()
      .from(users)
      .where(and(eq(users.role, role), isNull(users.disabledAt), after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) =>
      shown.map((u) => ({ id: u.id, username: u.username, displayName: u.displayName })),
    );
  }

  /** Whether an id names a person of a role who can act (not disabled): one of `staff(role)`. */
  async isStaff(role: Role, id: string): Promise<boolean> {
    const [found] = await this.#db.orm
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.id, id), eq(users.role, role), isNull(users.disabledAt)))
      .limit(1);
    return found !== undefined;
  }

  async logout(token: string): Promise<void> {
    await this.#db.orm.delete(sessions).where(eq(sessions.tokenHash, hashToken(token)));
  }

  /** The current TOTP code for a secret (tests and the demo's printed logins). */
  static totpNow(secret: string, at: Date): string {
    return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
      timestamp: at.getTime(),
    });
  }
}
