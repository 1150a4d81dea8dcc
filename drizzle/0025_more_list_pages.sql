DROP INDEX "api_keys_participant_idx";--> statement-breakpoint
DROP INDEX "compliance_alerts_created_idx";--> statement-breakpoint
DROP INDEX "compliance_alerts_party_idx";--> statement-breakpoint
DROP INDEX "compliance_party_hits_platform_idx";--> statement-breakpoint
DROP INDEX "compliance_travel_rule_to_idx";--> statement-breakpoint
DROP INDEX "mining_attributions_miner_idx";--> statement-breakpoint
DROP INDEX "mining_violations_miner_idx";--> statement-breakpoint
DROP INDEX "counterparty_addresses_counterparty_idx";--> statement-breakpoint
DROP INDEX "licences_participant_idx";--> statement-breakpoint
DROP INDEX "participants_platform_idx";--> statement-breakpoint
CREATE INDEX "api_keys_participant_page_idx" ON "api_keys" USING btree ("participant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "api_keys_platform_page_idx" ON "api_keys" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "api_keys_page_idx" ON "api_keys" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "compliance_alerts_page_idx" ON "compliance_alerts" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "compliance_alerts_party_page_idx" ON "compliance_alerts" USING btree ("party_id","created_at","id");--> statement-breakpoint
CREATE INDEX "compliance_alerts_severity_page_idx" ON "compliance_alerts" USING btree ("severity","created_at","id");--> statement-breakpoint
CREATE INDEX "compliance_cases_page_idx" ON "compliance_cases" USING btree ("opened_at","id");--> statement-breakpoint
CREATE INDEX "compliance_cases_state_page_idx" ON "compliance_cases" USING btree ("state","opened_at","id");--> statement-breakpoint
CREATE INDEX "compliance_cases_party_page_idx" ON "compliance_cases" USING btree ("party_id","opened_at","id");--> statement-breakpoint
CREATE INDEX "compliance_party_hits_platform_page_idx" ON "compliance_party_hits" USING btree ("platform_id","listed_at","id");--> statement-breakpoint
CREATE INDEX "compliance_party_hits_page_idx" ON "compliance_party_hits" USING btree ("listed_at","id");--> statement-breakpoint
CREATE INDEX "compliance_party_hits_party_page_idx" ON "compliance_party_hits" USING btree ("party_id","listed_at","id");--> statement-breakpoint
CREATE INDEX "compliance_travel_rule_to_page_idx" ON "compliance_travel_rule_messages" USING btree ("to_platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "compliance_travel_rule_page_idx" ON "compliance_travel_rule_messages" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "mining_attributions_miner_page_idx" ON "mining_attributions" USING btree ("miner_id","block_time","id");--> statement-breakpoint
CREATE INDEX "mining_attributions_region_page_idx" ON "mining_attributions" USING btree ("region_code","block_time","id");--> statement-breakpoint
CREATE INDEX "mining_attributions_page_idx" ON "mining_attributions" USING btree ("block_time","id");--> statement-breakpoint
CREATE INDEX "mining_violations_miner_page_idx" ON "mining_violations" USING btree ("miner_id","block_time","attribution_id");--> statement-breakpoint
CREATE INDEX "mining_violations_status_page_idx" ON "mining_violations" USING btree ("status","block_time","attribution_id");--> statement-breakpoint
CREATE INDEX "mining_violations_region_page_idx" ON "mining_violations" USING btree ("region_code","block_time","attribution_id");--> statement-breakpoint
CREATE INDEX "mining_violations_page_idx" ON "mining_violations" USING btree ("block_time","attribution_id");--> statement-breakpoint
CREATE INDEX "counterparty_addresses_counterparty_page_idx" ON "counterparty_addresses" USING btree ("counterparty_id","created_at","id");--> statement-breakpoint
CREATE INDEX "licences_participant_page_idx" ON "licences" USING btree ("participant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "licences_page_idx" ON "licences" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "participants_platform_page_idx" ON "participants" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "participants_kind_page_idx" ON "participants" USING btree ("kind","created_at","id");--> statement-breakpoint
CREATE INDEX "participants_page_idx" ON "participants" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "wallets_platform_page_idx" ON "wallets" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "wallets_page_idx" ON "wallets" USING btree ("created_at","id");