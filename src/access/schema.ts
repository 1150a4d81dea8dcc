import { foreignKey, index, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';

/**
 * API keys. The secret is shown once at creation; only its SHA-256 is stored. Every key belongs
 * to a person (`user_id`, a user record): what maker-checker counts is that person, so two keys
 * of one officer are one approval. The key's role and participant are its person's (a composite
 * foreign key), so a key can never act for another participant than its holder's.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    participantId: text('participant_id').notNull(),
    /** For a company's key, its platform; for a platform's key, the platform itself. */
    platformId: text('platform_id'),
    role: text('role').notNull(),
    name: text('name').notNull(),
    secretHash: text('secret_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // The keys list, newest first, for each kind of reader (keyset on created_at, id).
    index('api_keys_participant_page_idx').on(t.participantId, t.createdAt, t.id),
    index('api_keys_platform_page_idx').on(t.platformId, t.createdAt, t.id),
    index('api_keys_page_idx').on(t.createdAt, t.id),
    index('api_keys_user_idx').on(t.userId),
    foreignKey({
      name: 'api_keys_person_fk',
      columns: [t.userId, t.role, t.participantId],
      foreignColumns: [users.id, users.role, users.participantId],
    }),
  ],
);

/**
 * People: those who log in to the web application and those who hold API keys (or both). A
 * person who only uses keys has no password (`password_hash` null: login always refuses) and a
 * username that is their own id, so it can never collide with a chosen one. Passwords are stored
 * with scrypt.
 */
export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull().unique(),
    displayName: text('display_name').notNull(),
    passwordHash: text('password_hash'),
    role: text('role').notNull(),
    participantId: text('participant_id').notNull(),
    platformId: text('platform_id'),
    /** Base32 TOTP secret (RFC 6238) when the second factor is enabled. */
    totpSecret: text('totp_secret'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
  },
  // The target of api_keys' composite foreign key: a key's role and participant are its person's.
  (t) => [unique('users_identity_unique').on(t.id, t.role, t.participantId)],
);

/** Browser sessions: the cookie carries a random token; only its SHA-256 is stored. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);
