ALTER TABLE "clearing_pay_out_transactions" DROP CONSTRAINT "clearing_pay_out_transactions_status_check";--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "held_code" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "replaced_txids" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD CONSTRAINT "clearing_pay_out_transactions_status_check" CHECK ("clearing_pay_out_transactions"."status" in ('signed', 'broadcast', 'confirmed', 'rejected', 'held'));