CREATE TABLE "compliance_alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"party_id" text NOT NULL,
	"platform_id" text,
	"case_id" text NOT NULL,
	"kind" text NOT NULL,
	"rule" text NOT NULL,
	"score" double precision NOT NULL,
	"message" text NOT NULL,
	"transfer_id" text,
	"decision_id" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "compliance_alerts_kind" CHECK ("compliance_alerts"."kind" in ('monitoring', 'screening'))
);
--> statement-breakpoint
CREATE TABLE "compliance_case_transfers" (
	"case_id" text NOT NULL,
	"transfer_id" text NOT NULL,
	CONSTRAINT "compliance_case_transfers_case_id_transfer_id_pk" PRIMARY KEY("case_id","transfer_id")
);
--> statement-breakpoint
CREATE TABLE "compliance_cases" (
	"id" text PRIMARY KEY NOT NULL,
	"party_id" text NOT NULL,
	"platform_id" text,
	"state" text NOT NULL,
	"outcome" text,
	"assignee" text,
	"notes" jsonb NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "compliance_cases_state" CHECK ("compliance_cases"."state" in ('open', 'investigating', 'closed')),
	CONSTRAINT "compliance_cases_outcome" CHECK (("compliance_cases"."state" = 'closed') = ("compliance_cases"."outcome" is not null and "compliance_cases"."closed_at" is not null) and ("compliance_cases"."outcome" is null or "compliance_cases"."outcome" in ('confirmed', 'falsePositive', 'reported')))
);
--> statement-breakpoint
CREATE TABLE "compliance_clearances" (
	"id" text PRIMARY KEY NOT NULL,
	"party_id" text NOT NULL,
	"source" text NOT NULL,
	"list_entry_id" text NOT NULL,
	"entry_hash" text NOT NULL,
	"reason" text NOT NULL,
	"cleared_by" text NOT NULL,
	"cleared_at" timestamp with time zone NOT NULL,
	CONSTRAINT "compliance_clearances_pair" UNIQUE("party_id","source","list_entry_id","entry_hash"),
	CONSTRAINT "compliance_clearances_reason" CHECK (length(trim("compliance_clearances"."reason")) >= 10)
);
--> statement-breakpoint
CREATE TABLE "compliance_transfers" (
	"transfer_id" text PRIMARY KEY NOT NULL,
	"decision_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"company_id" text NOT NULL,
	"counterparty_id" text NOT NULL,
	"counterparty_address" text NOT NULL,
	"direction" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"fiat_minor" bigint NOT NULL,
	"fiat_currency" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	CONSTRAINT "compliance_transfers_amount" CHECK ("compliance_transfers"."amount_sats" >= 0 and "compliance_transfers"."fiat_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "compliance_decisions" (
	"id" text PRIMARY KEY NOT NULL,
	"transfer_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"company_id" text NOT NULL,
	"counterparty_id" text NOT NULL,
	"direction" text NOT NULL,
	"outcome" text NOT NULL,
	"review_outcome" text,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"review_note" text,
	"reasons" jsonb NOT NULL,
	"list_snapshot_ids" jsonb NOT NULL,
	"rule_versions" jsonb NOT NULL,
	"monitoring_score" double precision NOT NULL,
	"facts" jsonb NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	CONSTRAINT "compliance_decisions_outcome" CHECK ("compliance_decisions"."outcome" in ('allow', 'review', 'block')),
	CONSTRAINT "compliance_decisions_review" CHECK ("compliance_decisions"."review_outcome" is null or ("compliance_decisions"."outcome" = 'review' and "compliance_decisions"."review_outcome" in ('allow', 'block') and "compliance_decisions"."reviewed_by" is not null and "compliance_decisions"."review_note" is not null))
);
--> statement-breakpoint
CREATE TABLE "compliance_list_entries" (
	"snapshot_id" text NOT NULL,
	"list_entry_id" text NOT NULL,
	"content_hash" text NOT NULL,
	"entry" jsonb NOT NULL,
	CONSTRAINT "compliance_list_entries_snapshot_id_list_entry_id_pk" PRIMARY KEY("snapshot_id","list_entry_id")
);
--> statement-breakpoint
CREATE TABLE "compliance_list_snapshots" (
	"id" text PRIMARY KEY NOT NULL,
	"list_key" text NOT NULL,
	"source" text NOT NULL,
	"publication_date" text,
	"content_hash" text NOT NULL,
	"counts" jsonb NOT NULL,
	"imported_at" timestamp with time zone NOT NULL,
	"imported_by" text NOT NULL,
	"active" boolean NOT NULL,
	CONSTRAINT "compliance_list_snapshots_key_hash" UNIQUE("list_key","content_hash")
);
--> statement-breakpoint
CREATE TABLE "compliance_party_hits" (
	"id" text PRIMARY KEY NOT NULL,
	"party_id" text NOT NULL,
	"subject" text NOT NULL,
	"source" text NOT NULL,
	"list_entry_id" text NOT NULL,
	"entry_hash" text NOT NULL,
	"snapshot_id" text NOT NULL,
	"score" double precision NOT NULL,
	"matched_name" text,
	"status" text NOT NULL,
	"listed_at" timestamp with time zone NOT NULL,
	"delisted_at" timestamp with time zone,
	"delisted_reason" text,
	CONSTRAINT "compliance_party_hits_pair" UNIQUE("party_id","subject","source","list_entry_id"),
	CONSTRAINT "compliance_party_hits_status" CHECK ("compliance_party_hits"."status" in ('listed', 'delisted')),
	CONSTRAINT "compliance_party_hits_delisting_reason" CHECK (("compliance_party_hits"."status" = 'delisted') = ("compliance_party_hits"."delisted_reason" is not null))
);
--> statement-breakpoint
CREATE TABLE "compliance_travel_rule_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"transfer_id" text NOT NULL,
	"decision_id" text NOT NULL,
	"from_platform_id" text NOT NULL,
	"to_platform_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "compliance_alerts" ADD CONSTRAINT "compliance_alerts_case_id_compliance_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."compliance_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compliance_case_transfers" ADD CONSTRAINT "compliance_case_transfers_case_id_compliance_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."compliance_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compliance_case_transfers" ADD CONSTRAINT "compliance_case_transfers_transfer_id_compliance_transfers_transfer_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."compliance_transfers"("transfer_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compliance_list_entries" ADD CONSTRAINT "compliance_list_entries_snapshot_id_compliance_list_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."compliance_list_snapshots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "compliance_alerts_case_idx" ON "compliance_alerts" USING btree ("case_id");--> statement-breakpoint
CREATE UNIQUE INDEX "compliance_cases_one_open_per_party" ON "compliance_cases" USING btree ("party_id") WHERE "compliance_cases"."state" <> 'closed';--> statement-breakpoint
CREATE INDEX "compliance_transfers_company_idx" ON "compliance_transfers" USING btree ("company_id","occurred_at");--> statement-breakpoint
CREATE INDEX "compliance_transfers_counterparty_idx" ON "compliance_transfers" USING btree ("counterparty_id");--> statement-breakpoint
CREATE INDEX "compliance_transfers_address_idx" ON "compliance_transfers" USING btree ("counterparty_address");--> statement-breakpoint
CREATE INDEX "compliance_decisions_transfer_idx" ON "compliance_decisions" USING btree ("transfer_id");--> statement-breakpoint
CREATE INDEX "compliance_decisions_platform_idx" ON "compliance_decisions" USING btree ("platform_id","decided_at");--> statement-breakpoint
CREATE UNIQUE INDEX "compliance_list_snapshots_one_active" ON "compliance_list_snapshots" USING btree ("list_key") WHERE "compliance_list_snapshots"."active";--> statement-breakpoint
CREATE INDEX "compliance_travel_rule_to_idx" ON "compliance_travel_rule_messages" USING btree ("to_platform_id","created_at");