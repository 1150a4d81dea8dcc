CREATE TABLE "simnet_blocks" (
	"hash" text PRIMARY KEY NOT NULL,
	"height" integer NOT NULL,
	"prev_hash" text,
	"raw" "bytea" NOT NULL,
	"active" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"seq" bigserial NOT NULL
);
--> statement-breakpoint
CREATE TABLE "simnet_mempool" (
	"txid" text PRIMARY KEY NOT NULL,
	"raw" "bytea" NOT NULL,
	"time" integer NOT NULL,
	"seq" bigserial NOT NULL
);
--> statement-breakpoint
CREATE INDEX "simnet_blocks_height_idx" ON "simnet_blocks" USING btree ("height");