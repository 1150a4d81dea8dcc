DROP INDEX "compliance_alerts_case_idx";--> statement-breakpoint
CREATE INDEX "compliance_alerts_case_page_idx" ON "compliance_alerts" USING btree ("case_id","created_at","id");--> statement-breakpoint
CREATE INDEX "participants_name_prefix_idx" ON "participants" USING btree (lower("legal_name") text_pattern_ops);