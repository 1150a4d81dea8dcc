-- Maker-checker and four-eyes count people (Caller.personId), not credentials. Rows written before
-- keys were bound to people take their credential as the person (as Caller.personId does today).
ALTER TABLE "trade_payouts" DROP CONSTRAINT "trade_payouts_status";--> statement-breakpoint
ALTER TABLE "trade_contracts" ADD COLUMN "created_by_person" text;--> statement-breakpoint
UPDATE "trade_contracts" SET "created_by_person" = "created_by";--> statement-breakpoint
ALTER TABLE "trade_contracts" ALTER COLUMN "created_by_person" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "trade_contracts" ADD COLUMN "submitted_by_person" text;--> statement-breakpoint
ALTER TABLE "trade_payout_approvals" ADD COLUMN "person_id" text;--> statement-breakpoint
UPDATE "trade_payout_approvals" SET "person_id" = "actor_id";--> statement-breakpoint
ALTER TABLE "trade_payout_approvals" ALTER COLUMN "person_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "trade_payout_approvals" DROP CONSTRAINT "trade_payout_approvals_payout_id_actor_id_pk";--> statement-breakpoint
ALTER TABLE "trade_payout_approvals" ADD CONSTRAINT "trade_payout_approvals_payout_id_person_id_pk" PRIMARY KEY("payout_id","person_id");--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD COLUMN "created_by_person" text;--> statement-breakpoint
UPDATE "trade_payouts" SET "created_by_person" = "created_by";--> statement-breakpoint
ALTER TABLE "trade_payouts" ALTER COLUMN "created_by_person" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD COLUMN "hold" jsonb;--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD CONSTRAINT "trade_payouts_status" CHECK ("trade_payouts"."status" in ('awaitingReview', 'awaitingApproval', 'awaitingPayment', 'inProgress', 'held', 'completed', 'cancelled'));
