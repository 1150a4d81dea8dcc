-- Simnet's tables, in simnet's own migration set (applied by its store when it opens). Until
-- this set existed they were created by the production migration 0004_simnet: a database that
-- ran it already has them, so every statement here adopts what exists (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS "simnet_blocks" (
	"hash" text PRIMARY KEY NOT NULL,
	"height" integer NOT NULL,
	"prev_hash" text,
	"raw" "bytea" NOT NULL,
	"active" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"seq" bigserial NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "simnet_mempool" (
	"txid" text PRIMARY KEY NOT NULL,
	"raw" "bytea" NOT NULL,
	"time" integer NOT NULL,
	"seq" bigserial NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "simnet_blocks_height_idx" ON "simnet_blocks" USING btree ("height");
