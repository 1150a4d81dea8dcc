CREATE TABLE "trade_floors" (
	"id" text PRIMARY KEY NOT NULL,
	"min_approvals_above" integer NOT NULL,
	"min_approvals_below" integer NOT NULL,
	"max_quorum_threshold_sats" bigint NOT NULL,
	"min_confirmations" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "trade_floors_scheme" CHECK ("trade_floors"."id" = 'scheme'),
	CONSTRAINT "trade_floors_approvals" CHECK ("trade_floors"."min_approvals_above" >= 1 and "trade_floors"."min_approvals_below" >= 1),
	CONSTRAINT "trade_floors_confirmations" CHECK ("trade_floors"."min_confirmations" in (0, 1, 2, 6)),
	CONSTRAINT "trade_floors_threshold" CHECK ("trade_floors"."max_quorum_threshold_sats" >= 0)
);
