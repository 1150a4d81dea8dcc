CREATE TABLE "exchange_rates" (
	"id" text PRIMARY KEY NOT NULL,
	"quote" text NOT NULL,
	"digits" bigint NOT NULL,
	"scale" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"method" text NOT NULL,
	"sources" jsonb NOT NULL,
	CONSTRAINT "exchange_rates_positive" CHECK ("exchange_rates"."digits" > 0 and "exchange_rates"."scale" between 0 and 12)
);
--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"participant_id" text NOT NULL,
	"platform_id" text,
	"purpose" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ledger_accounts_purpose" CHECK ("ledger_accounts"."purpose" in ('clientFunds', 'inTransit', 'networkFees', 'counterpartySettled'))
);
--> statement-breakpoint
CREATE TABLE "ledger_postings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"transaction_id" text NOT NULL,
	"account_id" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"fiat_minor" bigint,
	"fiat_currency" text,
	CONSTRAINT "ledger_postings_nonzero" CHECK ("ledger_postings"."amount_sats" <> 0),
	CONSTRAINT "ledger_postings_fiat_pair" CHECK (("ledger_postings"."fiat_minor" is null) = ("ledger_postings"."fiat_currency" is null))
);
--> statement-breakpoint
CREATE TABLE "ledger_settled_outputs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"transaction_id" text NOT NULL,
	"released_by" text
);
--> statement-breakpoint
CREATE TABLE "ledger_transactions" (
	"id" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"reference" text NOT NULL,
	"platform_id" text,
	"rate_id" text,
	"reverses" text,
	"memo" text DEFAULT '' NOT NULL,
	CONSTRAINT "ledger_transactions_reverses_unique" UNIQUE("reverses")
);
--> statement-breakpoint
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_account_id_ledger_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_settled_outputs" ADD CONSTRAINT "ledger_settled_outputs_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_settled_outputs" ADD CONSTRAINT "ledger_settled_outputs_released_by_ledger_transactions_id_fk" FOREIGN KEY ("released_by") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_transactions" ADD CONSTRAINT "ledger_transactions_rate_id_exchange_rates_id_fk" FOREIGN KEY ("rate_id") REFERENCES "public"."exchange_rates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "exchange_rates_quote_at_idx" ON "exchange_rates" USING btree ("quote","at");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_owner_purpose_uq" ON "ledger_accounts" USING btree ("participant_id","purpose");--> statement-breakpoint
CREATE INDEX "ledger_postings_transaction_idx" ON "ledger_postings" USING btree ("transaction_id");--> statement-breakpoint
CREATE INDEX "ledger_postings_account_idx" ON "ledger_postings" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_settled_outputs_live_uq" ON "ledger_settled_outputs" USING btree ("txid","vout") WHERE "ledger_settled_outputs"."released_by" is null;--> statement-breakpoint
CREATE INDEX "ledger_transactions_reference_idx" ON "ledger_transactions" USING btree ("reference");