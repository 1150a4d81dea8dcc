ALTER TABLE "market_bank_inbox" DROP CONSTRAINT "market_bank_inbox_status_check";--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" DROP CONSTRAINT "clearing_pay_ins_status_check";--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "decision" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "decision_reason" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "decided_by_person" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "clearing_obligations_page_idx" ON "clearing_obligations" USING btree ("window_id","created_at","id");--> statement-breakpoint
ALTER TABLE "market_bank_inbox" ADD CONSTRAINT "market_bank_inbox_status_check" CHECK ("market_bank_inbox"."status" in ('pending', 'applied', 'refused', 'failed'));--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD CONSTRAINT "clearing_pay_ins_decision_check" CHECK ("clearing_pay_ins"."decision" is null or "clearing_pay_ins"."decision" in ('accept', 'reject'));--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD CONSTRAINT "clearing_pay_ins_status_check" CHECK ("clearing_pay_ins"."status" in ('awaiting', 'confirming', 'held', 'received', 'rejected'));