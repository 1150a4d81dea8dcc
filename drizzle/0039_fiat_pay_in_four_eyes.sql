ALTER TABLE "clearing_pay_ins" ADD COLUMN "recorded_amount" bigint;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "recorded_reference" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "recorded_by_person" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD COLUMN "recorded_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "clearing_pay_ins_recorded_reference_idx" ON "clearing_pay_ins" USING btree ("recorded_reference");