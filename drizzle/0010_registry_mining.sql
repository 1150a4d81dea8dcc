CREATE TABLE "mining_attributions" (
	"id" text PRIMARY KEY NOT NULL,
	"block_hash" text NOT NULL,
	"height" integer NOT NULL,
	"block_time" timestamp with time zone NOT NULL,
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"value_sats" bigint NOT NULL,
	"address" text NOT NULL,
	"miner_id" text NOT NULL,
	"site_id" text NOT NULL,
	"region_code" text NOT NULL,
	"payout_kind" text NOT NULL,
	"pool_name" text,
	CONSTRAINT "mining_attributions_value_check" CHECK ("mining_attributions"."value_sats" >= 0)
);
--> statement-breakpoint
CREATE TABLE "mining_bans" (
	"id" text PRIMARY KEY NOT NULL,
	"region_code" text NOT NULL,
	"kind" text NOT NULL,
	"from_date" date NOT NULL,
	"to_date" date NOT NULL,
	"season_start" text,
	"season_end" text,
	"daily_start" text,
	"daily_end" text,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"lifted_at" timestamp with time zone,
	"lift_reason" text,
	CONSTRAINT "mining_bans_kind_check" CHECK ("mining_bans"."kind" in ('full', 'seasonal', 'curtailment')),
	CONSTRAINT "mining_bans_order_check" CHECK ("mining_bans"."from_date" <= "mining_bans"."to_date"),
	CONSTRAINT "mining_bans_season_check" CHECK (("mining_bans"."season_start" is null) = ("mining_bans"."season_end" is null)),
	CONSTRAINT "mining_bans_daily_check" CHECK (("mining_bans"."daily_start" is null) = ("mining_bans"."daily_end" is null))
);
--> statement-breakpoint
CREATE TABLE "mining_blocks" (
	"hash" text PRIMARY KEY NOT NULL,
	"height" integer NOT NULL,
	"time" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mining_payout_addresses" (
	"id" text PRIMARY KEY NOT NULL,
	"miner_id" text NOT NULL,
	"site_id" text NOT NULL,
	"kind" text NOT NULL,
	"pool_name" text,
	"address" text NOT NULL,
	"script_hex" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "mining_payout_addresses_kind_check" CHECK ("mining_payout_addresses"."kind" in ('pool', 'solo')),
	CONSTRAINT "mining_payout_addresses_pool_check" CHECK (("mining_payout_addresses"."kind" = 'pool') = ("mining_payout_addresses"."pool_name" is not null))
);
--> statement-breakpoint
CREATE TABLE "mining_sites" (
	"id" text PRIMARY KEY NOT NULL,
	"miner_id" text NOT NULL,
	"region_code" text NOT NULL,
	"name" text NOT NULL,
	"grid_connection" text NOT NULL,
	"power_capacity_kw" integer NOT NULL,
	"declared_hashrate_ths" bigint NOT NULL,
	"commissioning_date" date NOT NULL,
	"pool_name" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "mining_sites_power_check" CHECK ("mining_sites"."power_capacity_kw" > 0),
	CONSTRAINT "mining_sites_hashrate_check" CHECK ("mining_sites"."declared_hashrate_ths" > 0)
);
--> statement-breakpoint
CREATE TABLE "mining_violations" (
	"attribution_id" text PRIMARY KEY NOT NULL,
	"code" text DEFAULT 'MINING_BAN_VIOLATION' NOT NULL,
	"ban_id" text NOT NULL,
	"miner_id" text NOT NULL,
	"site_id" text NOT NULL,
	"region_code" text NOT NULL,
	"block_hash" text NOT NULL,
	"height" integer NOT NULL,
	"block_time" timestamp with time zone NOT NULL,
	"value_sats" bigint NOT NULL,
	"status" text NOT NULL,
	"alert_id" text,
	"note" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "mining_violations_code_check" CHECK ("mining_violations"."code" = 'MINING_BAN_VIOLATION'),
	CONSTRAINT "mining_violations_status_check" CHECK ("mining_violations"."status" in ('open', 'linked', 'confirmed', 'dismissed'))
);
--> statement-breakpoint
CREATE TABLE "provenance_inputs" (
	"spending_txid" text NOT NULL,
	"input_index" integer NOT NULL,
	"block_hash" text NOT NULL,
	"prev_txid" text NOT NULL,
	"prev_vout" integer NOT NULL,
	"value_sats" bigint NOT NULL,
	CONSTRAINT "provenance_inputs_spending_txid_input_index_pk" PRIMARY KEY("spending_txid","input_index")
);
--> statement-breakpoint
CREATE TABLE "provenance_outputs" (
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"block_hash" text NOT NULL,
	"height" integer NOT NULL,
	"value_sats" bigint NOT NULL,
	"coinbase" integer NOT NULL,
	"spent_by_txid" text,
	"spent_in_block" text,
	CONSTRAINT "provenance_outputs_txid_vout_pk" PRIMARY KEY("txid","vout")
);
--> statement-breakpoint
CREATE TABLE "provenance_tags" (
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"origin_id" text NOT NULL,
	"sats" bigint NOT NULL,
	"block_hash" text NOT NULL,
	CONSTRAINT "provenance_tags_txid_vout_origin_id_pk" PRIMARY KEY("txid","vout","origin_id"),
	CONSTRAINT "provenance_tags_sats_check" CHECK ("provenance_tags"."sats" > 0)
);
--> statement-breakpoint
ALTER TABLE "mining_attributions" ADD CONSTRAINT "mining_attributions_block_hash_mining_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."mining_blocks"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mining_payout_addresses" ADD CONSTRAINT "mining_payout_addresses_site_id_mining_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."mining_sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mining_violations" ADD CONSTRAINT "mining_violations_attribution_id_mining_attributions_id_fk" FOREIGN KEY ("attribution_id") REFERENCES "public"."mining_attributions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mining_violations" ADD CONSTRAINT "mining_violations_ban_id_mining_bans_id_fk" FOREIGN KEY ("ban_id") REFERENCES "public"."mining_bans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provenance_inputs" ADD CONSTRAINT "provenance_inputs_block_hash_mining_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."mining_blocks"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provenance_outputs" ADD CONSTRAINT "provenance_outputs_block_hash_mining_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."mining_blocks"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provenance_tags" ADD CONSTRAINT "provenance_tags_origin_id_mining_attributions_id_fk" FOREIGN KEY ("origin_id") REFERENCES "public"."mining_attributions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provenance_tags" ADD CONSTRAINT "provenance_tags_block_hash_mining_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."mining_blocks"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mining_attributions_output_idx" ON "mining_attributions" USING btree ("block_hash","txid","vout");--> statement-breakpoint
CREATE INDEX "mining_attributions_miner_idx" ON "mining_attributions" USING btree ("miner_id","block_time");--> statement-breakpoint
CREATE INDEX "mining_bans_region_idx" ON "mining_bans" USING btree ("region_code");--> statement-breakpoint
CREATE UNIQUE INDEX "mining_payout_addresses_address_idx" ON "mining_payout_addresses" USING btree ("address");--> statement-breakpoint
CREATE UNIQUE INDEX "mining_payout_addresses_script_idx" ON "mining_payout_addresses" USING btree ("script_hex");--> statement-breakpoint
CREATE INDEX "mining_sites_miner_idx" ON "mining_sites" USING btree ("miner_id");--> statement-breakpoint
CREATE INDEX "mining_violations_miner_idx" ON "mining_violations" USING btree ("miner_id");--> statement-breakpoint
CREATE INDEX "provenance_inputs_block_idx" ON "provenance_inputs" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "provenance_outputs_block_idx" ON "provenance_outputs" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "provenance_tags_block_idx" ON "provenance_tags" USING btree ("block_hash");