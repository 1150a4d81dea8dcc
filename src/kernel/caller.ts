/** The roles of the people who use the platform (docs/architecture.md, "Who uses it"). */
export const ROLES = ['supervisor', 'platform', 'company', 'miner', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Who is asking. Every service call carries one; every store query scopes its rows to what the
 * caller may see (src/db `scopeTo`).
 *
 * - supervisor and auditor see the whole scheme (the auditor read-only);
 * - a platform sees itself and its client companies;
 * - a company sees itself (and, through `platformId`, is known to belong to one platform);
 * - a miner sees itself.
 */
export interface Caller {
  readonly role: Role;
  /** The participant the credential is bound to. */
  readonly participantId: string;
  /** For a company, its platform; for a platform, itself. */
  readonly platformId: string | null;
  /** The credential (api key id or user id), for the audit log. */
  readonly actorId: string;
  /**
   * The person behind the credential (a user id): what maker-checker, four-eyes and every quorum
   * count, so that two credentials of one person are one approval. The system's own callers are
   * their actor.
   */
  readonly personId: string;
  readonly requestId: string | null;
}

/** The system itself (migrations, the chain watcher, demo seeding). Sees everything. */
export function systemCaller(actorId = 'system', requestId: string | null = null): Caller {
  return {
    role: 'supervisor',
    participantId: 'system',
    platformId: null,
    actorId,
    personId: actorId,
    requestId,
  };
}

export function seesEverything(caller: Caller): boolean {
  return caller.role === 'supervisor' || caller.role === 'auditor';
}

/** The local operator channel (the CLI on the server's own machine), recorded as this actor. */
export const OPERATOR_ACTOR = 'operator:cli';

/**
 * Whether the caller may be one of the two persons of a four-eyes decision that moves money: not
 * the operator channel, which stands for whoever holds the server's machine, not a named person
 * (with it, one supervisor could propose with their login and approve with the token).
 */
export function countsAsPerson(caller: Caller): boolean {
  return caller.personId !== OPERATOR_ACTOR;
}
