CREATE INDEX "vasps_name_prefix_idx" ON "vasps" USING btree (lower("name") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "trade_contracts_company_status_idx" ON "trade_contracts" USING btree ("company_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_contracts_platform_status_idx" ON "trade_contracts" USING btree ("platform_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_contracts_goods_prefix_idx" ON "trade_contracts" USING btree (lower("goods_description") text_pattern_ops);