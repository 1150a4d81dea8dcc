-- Every API key belongs to a person (issue 11). Keys created before that belonged to nobody, and
-- who held them is not recorded anywhere, so each legacy key becomes its own person: one user
-- record per key, with no password (it cannot log in), the key's role, participant and platform,
-- named after the key ("Holder of API key <name> (<key id>)"). This keeps what maker-checker
-- counted before (each key one approver) until the supervisor revokes the legacy keys and issues
-- keys to named people. The person's id is the key's with the user prefix (`key_X` → `usr_X`),
-- which is unique because key ids are, and its username is that id.
INSERT INTO "users" ("id", "username", "display_name", "password_hash", "role", "participant_id", "platform_id", "totp_secret", "created_at", "disabled_at")
SELECT 'usr_' || substr(k."id", 5), 'usr_' || substr(k."id", 5),
       'Holder of API key ' || k."name" || ' (' || k."id" || ')',
       NULL, k."role", k."participant_id", k."platform_id", NULL, k."created_at", NULL
FROM "api_keys" k
WHERE k."user_id" IS NULL;
--> statement-breakpoint
UPDATE "api_keys" SET "user_id" = 'usr_' || substr("id", 5) WHERE "user_id" IS NULL;
