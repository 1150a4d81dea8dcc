CREATE INDEX "audit_events_entity_page_idx" ON "audit_events" USING btree ("entity_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_type_page_idx" ON "audit_events" USING btree ("entity_type","seq");--> statement-breakpoint
CREATE INDEX "audit_events_action_page_idx" ON "audit_events" USING btree ("action","seq");--> statement-breakpoint
CREATE INDEX "audit_events_actor_page_idx" ON "audit_events" USING btree ("actor","seq");--> statement-breakpoint
CREATE INDEX "compliance_list_snapshots_page_idx" ON "compliance_list_snapshots" USING btree ("imported_at","id");--> statement-breakpoint
CREATE INDEX "compliance_list_snapshots_active_page_idx" ON "compliance_list_snapshots" USING btree ("active","imported_at","id");--> statement-breakpoint
CREATE INDEX "compliance_list_snapshots_key_page_idx" ON "compliance_list_snapshots" USING btree ("list_key","imported_at","id");--> statement-breakpoint
CREATE INDEX "exchange_rates_quote_page_idx" ON "exchange_rates" USING btree ("quote","at","id");--> statement-breakpoint
CREATE INDEX "exchange_rates_page_idx" ON "exchange_rates" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "ledger_postings_account_page_idx" ON "ledger_postings" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "mining_bans_region_page_idx" ON "mining_bans" USING btree ("region_code","created_at","id");--> statement-breakpoint
CREATE INDEX "mining_bans_page_idx" ON "mining_bans" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "mining_payout_addresses_site_page_idx" ON "mining_payout_addresses" USING btree ("site_id","created_at","id");--> statement-breakpoint
CREATE INDEX "mining_payout_addresses_miner_page_idx" ON "mining_payout_addresses" USING btree ("miner_id","created_at","id");--> statement-breakpoint
CREATE INDEX "mining_payout_addresses_page_idx" ON "mining_payout_addresses" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "mining_sites_miner_page_idx" ON "mining_sites" USING btree ("miner_id","created_at","id");--> statement-breakpoint
CREATE INDEX "mining_sites_page_idx" ON "mining_sites" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "mining_sites_region_page_idx" ON "mining_sites" USING btree ("region_code","created_at","id");--> statement-breakpoint
CREATE INDEX "jurisdictions_refused_page_idx" ON "jurisdictions" USING btree ("refused","country");--> statement-breakpoint
CREATE INDEX "vasps_page_idx" ON "vasps" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "trade_settlements_time_page_idx" ON "trade_settlements" USING btree ("created_at","id") WHERE "trade_settlements"."reversed_at" is null;--> statement-breakpoint
CREATE INDEX "trade_settlements_amount_page_idx" ON "trade_settlements" USING btree ("amount_sats","id") WHERE "trade_settlements"."reversed_at" is null;--> statement-breakpoint
CREATE INDEX "trade_settlements_fiat_page_idx" ON "trade_settlements" USING btree ("fiat_minor","id") WHERE "trade_settlements"."reversed_at" is null;--> statement-breakpoint
CREATE INDEX "trade_webhook_outbox_platform_page_idx" ON "trade_webhook_outbox" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "trade_webhook_outbox_page_idx" ON "trade_webhook_outbox" USING btree ("created_at","id");