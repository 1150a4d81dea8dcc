ALTER TABLE "trade_payouts" DROP CONSTRAINT "trade_payouts_status";--> statement-breakpoint
ALTER TABLE "compliance_alerts" drop column "severity";--> statement-breakpoint
ALTER TABLE "compliance_alerts" ADD COLUMN "severity" text GENERATED ALWAYS AS (case when kind = 'screening' then 'critical' when score >= 60 then 'high' when rule like 'rule.sanctioned-exposure@%' then 'high' when score >= 30 then 'medium' else 'low' end) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "trade_invoices" ADD COLUMN "gate_outcome" text DEFAULT 'allow' NOT NULL;--> statement-breakpoint
ALTER TABLE "trade_invoices" ADD COLUMN "gate_decisions" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "trade_invoices" ADD COLUMN "travel_rule" jsonb;--> statement-breakpoint
ALTER TABLE "trade_invoices" ADD CONSTRAINT "trade_invoices_gate_outcome" CHECK ("trade_invoices"."gate_outcome" in ('allow', 'review', 'block'));--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD CONSTRAINT "trade_payouts_status" CHECK ("trade_payouts"."status" in ('awaitingReview', 'awaitingApproval', 'awaitingPayment', 'inProgress', 'completed', 'cancelled'));--> statement-breakpoint
-- Dropping compliance_alerts.severity (to re-add it as a generated column, compliance's pending
-- schema change this generate picked up) drops the CHECK constraints on it: restore them.
ALTER TABLE "compliance_alerts" ADD CONSTRAINT "compliance_alerts_severity" CHECK ("compliance_alerts"."severity" in ('low', 'medium', 'high', 'critical'));--> statement-breakpoint
ALTER TABLE "compliance_alerts" ADD CONSTRAINT "compliance_alerts_screening_critical" CHECK ("compliance_alerts"."kind" <> 'screening' or "compliance_alerts"."severity" = 'critical');
