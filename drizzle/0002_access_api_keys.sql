CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"participant_id" text NOT NULL,
	"platform_id" text,
	"role" text NOT NULL,
	"name" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
CREATE INDEX "api_keys_participant_idx" ON "api_keys" USING btree ("participant_id");