CREATE TABLE "clearing_pay_out_transactions" (
	"window_id" text PRIMARY KEY NOT NULL,
	"txid" text NOT NULL,
	"raw" text NOT NULL,
	"fee_sats" bigint NOT NULL,
	"fee_rate_sat_per_kvb" bigint NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone,
	"block_hash" text,
	"block_height" integer,
	"signed_at" timestamp with time zone NOT NULL,
	"broadcast_at" timestamp with time zone,
	"confirmed_at" timestamp with time zone,
	CONSTRAINT "clearing_pay_out_transactions_status_check" CHECK ("clearing_pay_out_transactions"."status" in ('signed', 'broadcast', 'confirmed', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "clearing_settlement_addresses" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"network" text NOT NULL,
	"address" text NOT NULL,
	"registered_by" text NOT NULL,
	"registered_by_person" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clearing_pay_outs" ADD COLUMN "held_code" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_outs" ADD COLUMN "address" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_outs" ADD COLUMN "txid" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_outs" ADD COLUMN "vout" integer;--> statement-breakpoint
ALTER TABLE "clearing_pay_outs" ADD COLUMN "fee_sats" bigint;--> statement-breakpoint
ALTER TABLE "clearing_pay_outs" ADD COLUMN "paid_sats" bigint;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD CONSTRAINT "clearing_pay_out_transactions_window_id_clearing_windows_id_fk" FOREIGN KEY ("window_id") REFERENCES "public"."clearing_windows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_out_transactions_txid_idx" ON "clearing_pay_out_transactions" USING btree ("txid");--> statement-breakpoint
CREATE INDEX "clearing_pay_out_transactions_status_idx" ON "clearing_pay_out_transactions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "clearing_pay_out_transactions_block_idx" ON "clearing_pay_out_transactions" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "clearing_settlement_addresses_platform_idx" ON "clearing_settlement_addresses" USING btree ("platform_id","created_at","id");