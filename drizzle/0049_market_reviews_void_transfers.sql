ALTER TABLE "compliance_transfers" ADD COLUMN "voided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "compliance_transfers" ADD COLUMN "void_reason" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "coin_leg_review_id" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "coin_leg_review_outcome" text;--> statement-breakpoint
CREATE INDEX "market_deals_coin_leg_review_idx" ON "market_deals" USING btree ("coin_leg_review_id");--> statement-breakpoint
ALTER TABLE "market_deals" ADD CONSTRAINT "market_deals_coin_leg_review_check" CHECK ("market_deals"."coin_leg_review_outcome" is null or ("market_deals"."coin_leg_review_outcome" in ('allow', 'block') and "market_deals"."coin_leg_review_id" is not null));