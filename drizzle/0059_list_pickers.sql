CREATE INDEX "clearing_lots_height_page_idx" ON "clearing_lots" USING btree ("height","created_at","id");--> statement-breakpoint
CREATE INDEX "clearing_lots_id_prefix_idx" ON "clearing_lots" USING btree (lower("id") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "mining_sites_miner_region_idx" ON "mining_sites" USING btree ("miner_id","region_code");--> statement-breakpoint
CREATE INDEX "market_settings_page_idx" ON "market_settings" USING btree ("created_at","platform_id");