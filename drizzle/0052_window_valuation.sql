ALTER TABLE "clearing_positions" ADD COLUMN "value_minor" bigint;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_currency" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_rate_id" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_fixing_id" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_rate" text;--> statement-breakpoint
ALTER TABLE "clearing_windows" ADD COLUMN "valuation_reason" text;