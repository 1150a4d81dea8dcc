CREATE INDEX "clearing_lots_miner_status_page_idx" ON "clearing_lots" USING btree ("miner_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "clearing_lots_site_page_idx" ON "clearing_lots" USING btree ("site_id","created_at","id");--> statement-breakpoint
CREATE INDEX "mining_bans_dates_idx" ON "mining_bans" USING btree ("to_date","from_date");--> statement-breakpoint
CREATE INDEX "mining_sites_name_prefix_idx" ON "mining_sites" USING btree (lower("name") text_pattern_ops);