ALTER TABLE "clearing_settlement_addresses" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "clearing_settlement_addresses" ADD COLUMN "proof_message" text;--> statement-breakpoint
ALTER TABLE "clearing_settlement_addresses" ADD COLUMN "proof_signature" text;--> statement-breakpoint
ALTER TABLE "clearing_settlement_addresses" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "clearing_settlement_addresses" ADD COLUMN "decided_by_person" text;--> statement-breakpoint
ALTER TABLE "clearing_settlement_addresses" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_settlement_addresses_one_proposed" ON "clearing_settlement_addresses" USING btree ("platform_id") WHERE "clearing_settlement_addresses"."status" = 'proposed';