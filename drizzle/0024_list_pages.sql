DROP INDEX "compliance_decisions_platform_idx";--> statement-breakpoint
DROP INDEX "trade_contracts_company_idx";--> statement-breakpoint
DROP INDEX "trade_contracts_platform_idx";--> statement-breakpoint
CREATE INDEX "compliance_decisions_company_page_idx" ON "compliance_decisions" USING btree ("company_id","decided_at","id");--> statement-breakpoint
CREATE INDEX "compliance_decisions_page_idx" ON "compliance_decisions" USING btree ("decided_at","id");--> statement-breakpoint
CREATE INDEX "trade_batches_platform_page_idx" ON "trade_batches" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_batches_page_idx" ON "trade_batches" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "trade_contracts_page_idx" ON "trade_contracts" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "trade_invoices_company_page_idx" ON "trade_invoices" USING btree ("company_id","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_invoices_platform_page_idx" ON "trade_invoices" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_invoices_page_idx" ON "trade_invoices" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "trade_payouts_company_page_idx" ON "trade_payouts" USING btree ("company_id","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_payouts_platform_page_idx" ON "trade_payouts" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_payouts_page_idx" ON "trade_payouts" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "compliance_decisions_platform_idx" ON "compliance_decisions" USING btree ("platform_id","decided_at","id");--> statement-breakpoint
CREATE INDEX "trade_contracts_company_idx" ON "trade_contracts" USING btree ("company_id","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_contracts_platform_idx" ON "trade_contracts" USING btree ("platform_id","created_at","id");