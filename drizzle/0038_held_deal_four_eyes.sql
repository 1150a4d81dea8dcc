ALTER TABLE "market_deals" ADD COLUMN "pending_decision" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "pending_decision_by_person" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "pending_decision_reason" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "pending_decision_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "market_deals" ADD CONSTRAINT "market_deals_pending_decision_check" CHECK ("market_deals"."pending_decision" is null or ("market_deals"."pending_decision" in ('release', 'refund') and "market_deals"."pending_decision_by_person" is not null));