DROP INDEX "wallet_addresses_index_idx";--> statement-breakpoint
ALTER TABLE "wallet_addresses" ADD COLUMN "branch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "wallets" ADD COLUMN "next_change_index" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_addresses_path_idx" ON "wallet_addresses" USING btree ("wallet_id","branch","derivation_index");--> statement-breakpoint
CREATE INDEX "wallet_addresses_company_idx" ON "wallet_addresses" USING btree ("company_id");--> statement-breakpoint
ALTER TABLE "wallet_addresses" DROP COLUMN "script_hex";--> statement-breakpoint
ALTER TABLE "wallet_addresses" ADD CONSTRAINT "wallet_addresses_branch_check" CHECK ("wallet_addresses"."branch" in (0, 1));--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_next_change_index_check" CHECK ("wallets"."next_change_index" >= 0 and "wallets"."next_change_index" < 2147483648);