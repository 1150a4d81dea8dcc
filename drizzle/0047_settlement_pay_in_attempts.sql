ALTER TABLE "clearing_pay_ins" DROP CONSTRAINT "clearing_pay_ins_status_check";--> statement-breakpoint
DROP INDEX "clearing_pay_ins_due_idx";--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "recorded_salt" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "held_reason" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "alert_id" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "case_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_ins_due_idx" ON "clearing_pay_ins" USING btree ("window_id","platform_id","asset","attempt");--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD CONSTRAINT "clearing_pay_ins_held_reason_check" CHECK ("clearing_pay_ins"."held_reason" is null or "clearing_pay_ins"."held_reason" in ('listMatch', 'unscreenable'));--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD CONSTRAINT "clearing_pay_ins_attempt_check" CHECK ("clearing_pay_ins"."attempt" >= 1);--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD CONSTRAINT "clearing_pay_ins_status_check" CHECK ("clearing_pay_ins"."status" in ('awaiting', 'confirming', 'held', 'received', 'rejected', 'frozen'));