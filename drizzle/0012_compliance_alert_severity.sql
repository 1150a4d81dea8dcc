ALTER TABLE "compliance_alerts" ADD COLUMN "severity" text;--> statement-breakpoint
-- Existing alerts get the severity alertSeverity() (src/compliance/cases/alerts.ts) would give them.
UPDATE "compliance_alerts" SET "severity" = CASE
  WHEN "kind" = 'screening' THEN 'critical'
  WHEN "score" >= 60 THEN 'high'
  WHEN "rule" LIKE 'rule.sanctioned-exposure@%' THEN 'high'
  WHEN "score" >= 30 THEN 'medium'
  ELSE 'low' END;--> statement-breakpoint
ALTER TABLE "compliance_alerts" ALTER COLUMN "severity" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "compliance_alerts_created_idx" ON "compliance_alerts" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "compliance_alerts_party_idx" ON "compliance_alerts" USING btree ("party_id","created_at");--> statement-breakpoint
ALTER TABLE "compliance_alerts" ADD CONSTRAINT "compliance_alerts_severity" CHECK ("compliance_alerts"."severity" in ('low', 'medium', 'high', 'critical'));--> statement-breakpoint
ALTER TABLE "compliance_alerts" ADD CONSTRAINT "compliance_alerts_screening_critical" CHECK ("compliance_alerts"."kind" <> 'screening' or "compliance_alerts"."severity" = 'critical');