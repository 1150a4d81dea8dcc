ALTER TABLE "clearing_pay_ins" DROP CONSTRAINT "clearing_pay_ins_status_check";--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "block_height" integer;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "payers" jsonb;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD CONSTRAINT "clearing_pay_ins_status_check" CHECK ("clearing_pay_ins"."status" in ('awaiting', 'confirming', 'held', 'received'));