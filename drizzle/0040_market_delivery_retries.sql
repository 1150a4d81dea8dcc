CREATE SEQUENCE "public"."market_delivery_order" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "delivery_order" bigint;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "delivery_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "delivery_last_error" text;--> statement-breakpoint
ALTER TABLE "market_deals" ADD COLUMN "delivery_next_attempt_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "market_deals_delivery_order_idx" ON "market_deals" USING btree ("status","delivery_order");