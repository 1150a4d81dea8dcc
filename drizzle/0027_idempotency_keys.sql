ALTER TABLE "trade_invoices" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "trade_invoices" ADD COLUMN "request_fingerprint" text;--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD COLUMN "request_fingerprint" text;--> statement-breakpoint
CREATE UNIQUE INDEX "trade_invoices_idempotency_uq" ON "trade_invoices" USING btree ("company_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "trade_payouts_idempotency_uq" ON "trade_payouts" USING btree ("company_id","idempotency_key");