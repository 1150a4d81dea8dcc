CREATE TABLE "clearing_blocks" (
	"hash" text PRIMARY KEY NOT NULL,
	"height" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clearing_holdings" (
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"lot_id" text NOT NULL,
	"sats" bigint NOT NULL,
	"block_hash" text NOT NULL,
	CONSTRAINT "clearing_holdings_txid_vout_lot_id_pk" PRIMARY KEY("txid","vout","lot_id"),
	CONSTRAINT "clearing_holdings_sats_check" CHECK ("clearing_holdings"."sats" > 0)
);
--> statement-breakpoint
CREATE TABLE "clearing_lots" (
	"id" text PRIMARY KEY NOT NULL,
	"attribution_id" text NOT NULL,
	"block_hash" text NOT NULL,
	"height" integer NOT NULL,
	"block_time" timestamp with time zone NOT NULL,
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"value_sats" bigint NOT NULL,
	"miner_id" text NOT NULL,
	"site_id" text NOT NULL,
	"region_code" text NOT NULL,
	"status" text NOT NULL,
	"clearance" text NOT NULL,
	"quarantine_reason" text,
	"ban_id" text,
	"released_at" timestamp with time zone,
	"released_by" text,
	"release_reason" text,
	"spent_by_txid" text,
	"spent_in_block" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_lots_status_check" CHECK ("clearing_lots"."status" in ('cleared', 'quarantined', 'released', 'spent')),
	CONSTRAINT "clearing_lots_clearance_check" CHECK ("clearing_lots"."clearance" in ('cleared', 'quarantined', 'released')),
	CONSTRAINT "clearing_lots_reason_check" CHECK (("clearing_lots"."clearance" = 'cleared') = ("clearing_lots"."quarantine_reason" is null)),
	CONSTRAINT "clearing_lots_value_check" CHECK ("clearing_lots"."value_sats" >= 0)
);
--> statement-breakpoint
CREATE TABLE "clearing_outputs" (
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"block_hash" text NOT NULL,
	"height" integer NOT NULL,
	"value_sats" bigint NOT NULL,
	"cleared_sats" bigint NOT NULL,
	"quarantined_sats" bigint NOT NULL,
	"undetermined_sats" bigint NOT NULL,
	"spent_by_txid" text,
	"spent_in_block" text,
	CONSTRAINT "clearing_outputs_txid_vout_pk" PRIMARY KEY("txid","vout"),
	CONSTRAINT "clearing_outputs_value_check" CHECK ("clearing_outputs"."value_sats" > 0),
	CONSTRAINT "clearing_outputs_sats_check" CHECK ("clearing_outputs"."cleared_sats" >= 0 and "clearing_outputs"."quarantined_sats" >= 0 and "clearing_outputs"."undetermined_sats" >= 0 and "clearing_outputs"."cleared_sats" + "clearing_outputs"."quarantined_sats" + "clearing_outputs"."undetermined_sats" <= "clearing_outputs"."value_sats")
);
--> statement-breakpoint
CREATE TABLE "clearing_rule_versions" (
	"version" integer PRIMARY KEY NOT NULL,
	"threshold_basis_points" integer,
	"effective_from" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"set_by" text NOT NULL,
	"set_by_person" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_rule_versions_threshold_check" CHECK ("clearing_rule_versions"."threshold_basis_points" is null or "clearing_rule_versions"."threshold_basis_points" between 0 and 10000)
);
--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD COLUMN "origin_refusal" jsonb;--> statement-breakpoint
ALTER TABLE "clearing_holdings" ADD CONSTRAINT "clearing_holdings_lot_id_clearing_lots_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."clearing_lots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_holdings" ADD CONSTRAINT "clearing_holdings_block_hash_clearing_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."clearing_blocks"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_lots" ADD CONSTRAINT "clearing_lots_block_hash_clearing_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."clearing_blocks"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_outputs" ADD CONSTRAINT "clearing_outputs_block_hash_clearing_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."clearing_blocks"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clearing_holdings_lot_idx" ON "clearing_holdings" USING btree ("lot_id");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_lots_attribution_idx" ON "clearing_lots" USING btree ("attribution_id");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_lots_output_idx" ON "clearing_lots" USING btree ("txid","vout");--> statement-breakpoint
CREATE INDEX "clearing_lots_block_idx" ON "clearing_lots" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "clearing_lots_spent_idx" ON "clearing_lots" USING btree ("spent_in_block");--> statement-breakpoint
CREATE INDEX "clearing_lots_page_idx" ON "clearing_lots" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "clearing_lots_miner_page_idx" ON "clearing_lots" USING btree ("miner_id","created_at","id");--> statement-breakpoint
CREATE INDEX "clearing_outputs_block_idx" ON "clearing_outputs" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "clearing_outputs_spent_idx" ON "clearing_outputs" USING btree ("spent_in_block");--> statement-breakpoint
CREATE INDEX "clearing_rule_versions_effective_idx" ON "clearing_rule_versions" USING btree ("effective_from","version");