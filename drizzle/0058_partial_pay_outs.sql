-- A window may have more than one pay-out transaction (a later one pays receivers held when the
-- window's was signed): the key is the window and the transaction's rank in it.
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" DROP CONSTRAINT "clearing_pay_out_transactions_pkey";--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD CONSTRAINT "clearing_pay_out_transactions_window_id_seq_pk" PRIMARY KEY("window_id","seq");--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "change_vout" integer;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "change_sats" bigint;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "change_index" integer;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "signed_outputs" jsonb;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "replaced_outputs" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_out_transactions_change_idx" ON "clearing_pay_out_transactions" USING btree ("change_index");
