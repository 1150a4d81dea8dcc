ALTER TABLE "market_deals" ALTER COLUMN "fixing_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "rate_id" text;--> statement-breakpoint
ALTER TABLE "clearing_positions" ADD COLUMN "value_minor" bigint;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_currency" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_rate_id" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_fixing_id" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_rate" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_reason" text;