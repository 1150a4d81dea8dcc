ALTER TABLE "compliance_alerts" DROP CONSTRAINT "compliance_alerts_kind";--> statement-breakpoint
ALTER TABLE "compliance_alerts" ADD COLUMN "subject" text;--> statement-breakpoint
CREATE INDEX "compliance_alerts_subject_idx" ON "compliance_alerts" USING btree ("subject") WHERE "compliance_alerts"."subject" is not null;--> statement-breakpoint
ALTER TABLE "compliance_alerts" ADD CONSTRAINT "compliance_alerts_kind" CHECK ("compliance_alerts"."kind" in ('monitoring', 'screening', 'clearing'));