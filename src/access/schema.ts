import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** API keys for machines. The secret is shown once at creation; only its SHA-256 is stored. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
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
  (t) => [index('api_keys_participant_idx').on(t.participantId)],
);

/** People who log in to the web application. Passwords are stored with scrypt. */
export const users = pgTable('users', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role').notNull(),
  participantId: text('participant_id').notNull(),
  platformId: text('platform_id'),
  /** Base32 TOTP secret (RFC 6238) when the second factor is enabled. */
  totpSecret: text('totp_secret'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
});

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
