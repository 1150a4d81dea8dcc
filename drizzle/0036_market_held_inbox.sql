CREATE TABLE "market_bank_inbox" (
	"id" text PRIMARY KEY NOT NULL,
	"bank" text NOT NULL,
	"bank_reference" text NOT NULL,
	"deal_reference" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"outcome" text,
	"attempts" integer NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"consumed_at" timestamp with time zone,
	CONSTRAINT "market_bank_inbox_status_check" CHECK ("market_bank_inbox"."status" in ('pending', 'applied', 'refused')),
	CONSTRAINT "market_bank_inbox_amount_check" CHECK ("market_bank_inbox"."amount_minor" > 0)
);
--> statement-breakpoint
ALTER TABLE "market_deals" DROP CONSTRAINT "market_deals_status_check";--> statement-breakpoint
ALTER TABLE "market_offers" DROP CONSTRAINT "market_offers_status_check";--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "held_from" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "refund_address" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "refund_txid" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "refund_tx" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "fiat_return_reference" text;--> statement-breakpoint
ALTER TABLE "market_offers" ADD COLUMN "withdrawal_txid" text;--> statement-breakpoint
ALTER TABLE "market_offers" ADD COLUMN "withdrawal_tx" text;--> statement-breakpoint
CREATE UNIQUE INDEX "market_bank_inbox_reference_idx" ON "market_bank_inbox" USING btree ("bank","bank_reference");--> statement-breakpoint
CREATE INDEX "market_bank_inbox_pending_idx" ON "market_bank_inbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "market_bank_inbox_deal_idx" ON "market_bank_inbox" USING btree ("deal_reference");--> statement-breakpoint
CREATE INDEX "market_bank_inbox_page_idx" ON "market_bank_inbox" USING btree ("received_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_ins_bank_reference_idx" ON "clearing_pay_ins" USING btree ("bank_reference") WHERE "clearing_pay_ins"."bank_reference" is not null;--> statement-breakpoint
ALTER TABLE "market_deals" ADD CONSTRAINT "market_deals_status_check" CHECK ("market_deals"."status" in ('awaitingPayment', 'delivering', 'delivered', 'settled', 'held', 'unwound', 'refunded'));--> statement-breakpoint
ALTER TABLE "market_offers" ADD CONSTRAINT "market_offers_status_check" CHECK ("market_offers"."status" in ('awaitingDeposit', 'open', 'closed', 'withdrawn'));