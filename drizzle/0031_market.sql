CREATE TABLE "market_bids" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"company_id" text NOT NULL,
	"company_platform_id" text NOT NULL,
	"contract_id" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "market_bids_status_check" CHECK ("market_bids"."status" in ('open', 'matched', 'lapsed')),
	CONSTRAINT "market_bids_amount_check" CHECK ("market_bids"."amount_sats" > 0)
);
--> statement-breakpoint
CREATE TABLE "market_deals" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"offer_id" text NOT NULL,
	"bid_id" text NOT NULL,
	"miner_id" text NOT NULL,
	"company_id" text NOT NULL,
	"contract_id" text NOT NULL,
	"miner_platform_id" text NOT NULL,
	"importer_platform_id" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"currency" text NOT NULL,
	"fiat_minor" bigint NOT NULL,
	"fixing_id" text NOT NULL,
	"reference_rate" text NOT NULL,
	"deal_rate" text NOT NULL,
	"spread_basis_points" integer NOT NULL,
	"status" text NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"bank_reference" text,
	"confirmed_at" timestamp with time zone,
	"delivery_txid" text,
	"delivery_vout" integer,
	"delivered_sats" bigint,
	"fee_sats" bigint,
	"delivery_tx" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "market_deals_status_check" CHECK ("market_deals"."status" in ('awaitingPayment', 'delivering', 'delivered', 'settled', 'held', 'unwound')),
	CONSTRAINT "market_deals_amount_check" CHECK ("market_deals"."amount_sats" > 0 and "market_deals"."fiat_minor" > 0)
);
--> statement-breakpoint
CREATE TABLE "market_escrow_coins" (
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"offer_id" text NOT NULL,
	"value_sats" bigint NOT NULL,
	"spent_by_deal" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "market_escrow_coins_txid_vout_pk" PRIMARY KEY("txid","vout"),
	CONSTRAINT "market_escrow_coins_value_check" CHECK ("market_escrow_coins"."value_sats" > 0)
);
--> statement-breakpoint
CREATE TABLE "market_offers" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"miner_id" text NOT NULL,
	"lot_id" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"available_sats" bigint NOT NULL,
	"escrow_address" text NOT NULL,
	"escrow_index" integer NOT NULL,
	"status" text NOT NULL,
	"deposit_txid" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "market_offers_status_check" CHECK ("market_offers"."status" in ('awaitingDeposit', 'open', 'closed')),
	CONSTRAINT "market_offers_amount_check" CHECK ("market_offers"."amount_sats" > 0 and "market_offers"."available_sats" between 0 and "market_offers"."amount_sats")
);
--> statement-breakpoint
CREATE TABLE "market_settings" (
	"platform_id" text PRIMARY KEY NOT NULL,
	"currency" text NOT NULL,
	"spread_basis_points" integer NOT NULL,
	"deadline_seconds" integer NOT NULL,
	"escrow_descriptor" text NOT NULL,
	"next_escrow_index" integer NOT NULL,
	"version" integer NOT NULL,
	"updated_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "market_settings_spread_check" CHECK ("market_settings"."spread_basis_points" between 0 and 2000 and "market_settings"."deadline_seconds" between 60 and 604800)
);
--> statement-breakpoint
ALTER TABLE "market_deals" ADD CONSTRAINT "market_deals_offer_id_market_offers_id_fk" FOREIGN KEY ("offer_id") REFERENCES "public"."market_offers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_deals" ADD CONSTRAINT "market_deals_bid_id_market_bids_id_fk" FOREIGN KEY ("bid_id") REFERENCES "public"."market_bids"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_escrow_coins" ADD CONSTRAINT "market_escrow_coins_offer_id_market_offers_id_fk" FOREIGN KEY ("offer_id") REFERENCES "public"."market_offers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "market_bids_contract_idx" ON "market_bids" USING btree ("contract_id");--> statement-breakpoint
CREATE INDEX "market_bids_page_idx" ON "market_bids" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "market_deals_bank_reference_idx" ON "market_deals" USING btree ("platform_id","bank_reference");--> statement-breakpoint
CREATE INDEX "market_deals_status_idx" ON "market_deals" USING btree ("status","deadline");--> statement-breakpoint
CREATE INDEX "market_deals_page_idx" ON "market_deals" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "market_escrow_coins_offer_idx" ON "market_escrow_coins" USING btree ("offer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "market_offers_escrow_idx" ON "market_offers" USING btree ("platform_id","escrow_index");--> statement-breakpoint
CREATE INDEX "market_offers_lot_idx" ON "market_offers" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "market_offers_page_idx" ON "market_offers" USING btree ("created_at","id");