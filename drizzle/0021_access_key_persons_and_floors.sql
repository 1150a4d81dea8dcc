ALTER TABLE "users" ALTER COLUMN "password_hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "user_id" text;--> statement-breakpoint
CREATE INDEX "api_keys_user_idx" ON "api_keys" USING btree ("user_id");--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_identity_unique" UNIQUE("id","role","participant_id");--> statement-breakpoint
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
--> statement-breakpoint
-- Maker-checker compares people: rows the previous migration gave a legacy key's id as the person
-- now name that key's person, so a legacy key cannot approve what it made as someone else.
UPDATE "trade_payouts" SET "created_by_person" = 'usr_' || substr("created_by_person", 5) WHERE "created_by_person" LIKE 'key\_%';
--> statement-breakpoint
UPDATE "trade_payout_approvals" SET "person_id" = 'usr_' || substr("person_id", 5) WHERE "person_id" LIKE 'key\_%';
--> statement-breakpoint
UPDATE "trade_contracts" SET "created_by_person" = 'usr_' || substr("created_by_person", 5) WHERE "created_by_person" LIKE 'key\_%';
--> statement-breakpoint
UPDATE "trade_contracts" SET "submitted_by_person" = 'usr_' || substr("submitted_by_person", 5) WHERE "submitted_by_person" LIKE 'key\_%';
--> statement-breakpoint
ALTER TABLE "api_keys" ALTER COLUMN "user_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_person_fk" FOREIGN KEY ("user_id","role","participant_id") REFERENCES "public"."users"("id","role","participant_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE TABLE "trade_floors" (
	"id" text PRIMARY KEY NOT NULL,
	"min_approvals_above" integer NOT NULL,
	"min_approvals_below" integer NOT NULL,
	"max_quorum_threshold_sats" bigint NOT NULL,
	"min_confirmations" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "trade_floors_scheme" CHECK ("trade_floors"."id" = 'scheme'),
	CONSTRAINT "trade_floors_approvals" CHECK ("trade_floors"."min_approvals_above" >= 1 and "trade_floors"."min_approvals_below" >= 1),
	CONSTRAINT "trade_floors_confirmations" CHECK ("trade_floors"."min_confirmations" in (0, 1, 2, 6)),
	CONSTRAINT "trade_floors_threshold" CHECK ("trade_floors"."max_quorum_threshold_sats" >= 0)
);
