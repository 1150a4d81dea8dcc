CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sessions_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"display_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"participant_id" text NOT NULL,
	"platform_id" text,
	"totp_secret" text,
	"created_at" timestamp with time zone NOT NULL,
	"disabled_at" timestamp with time zone,
	CONSTRAINT "users_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "counterparty_addresses" (
	"id" text PRIMARY KEY NOT NULL,
	"counterparty_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"network" text NOT NULL,
	"address" text NOT NULL,
	"ownership" text NOT NULL,
	"vasp_name" text,
	"vasp_lei" text,
	"proof_message" text,
	"proof_signature" text,
	"proof_address_type" text,
	"verified_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "counterparty_addresses_address_unique" UNIQUE("address"),
	CONSTRAINT "counterparty_addresses_ownership_check" CHECK ("counterparty_addresses"."ownership" in ('hosted', 'self_hosted')),
	CONSTRAINT "counterparty_addresses_proof_check" CHECK (("counterparty_addresses"."ownership" = 'hosted' and "counterparty_addresses"."vasp_name" is not null) or ("counterparty_addresses"."ownership" = 'self_hosted' and "counterparty_addresses"."proof_signature" is not null and "counterparty_addresses"."proof_message" is not null))
);
--> statement-breakpoint
CREATE TABLE "jurisdictions" (
	"country" text PRIMARY KEY NOT NULL,
	"risk_level" text NOT NULL,
	"refused" boolean NOT NULL,
	"reason" text,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "jurisdictions_risk_check" CHECK ("jurisdictions"."risk_level" in ('low', 'medium', 'high')),
	CONSTRAINT "jurisdictions_refused_reason" CHECK (not "jurisdictions"."refused" or "jurisdictions"."reason" is not null)
);
--> statement-breakpoint
CREATE TABLE "kyc_records" (
	"participant_id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"status" text NOT NULL,
	"risk_rating" text NOT NULL,
	"review_due" date NOT NULL,
	"beneficial_owners" jsonb NOT NULL,
	"documents" jsonb NOT NULL,
	"status_reason" text,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "kyc_status_check" CHECK ("kyc_records"."status" in ('pending', 'verified', 'rejected', 'expired')),
	CONSTRAINT "kyc_risk_check" CHECK ("kyc_records"."risk_rating" in ('low', 'medium', 'high'))
);
--> statement-breakpoint
CREATE TABLE "licence_events" (
	"licence_id" text NOT NULL,
	"seq" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text,
	"actor" text NOT NULL,
	CONSTRAINT "licence_events_licence_id_seq_pk" PRIMARY KEY("licence_id","seq")
);
--> statement-breakpoint
CREATE TABLE "licences" (
	"id" text PRIMARY KEY NOT NULL,
	"participant_id" text NOT NULL,
	"kind" text NOT NULL,
	"scope" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"status" text NOT NULL,
	"status_reason" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "licences_status_check" CHECK ("licences"."status" in ('active', 'suspended', 'revoked', 'expired')),
	CONSTRAINT "licences_validity_check" CHECK ("licences"."valid_to" is null or "licences"."valid_to" > "licences"."valid_from")
);
--> statement-breakpoint
CREATE TABLE "participants" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"legal_name" text NOT NULL,
	"other_names" jsonb NOT NULL,
	"country" text NOT NULL,
	"registration_number" text,
	"lei" text,
	"addresses" jsonb NOT NULL,
	"contacts" jsonb NOT NULL,
	"platform_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "participants_kind_check" CHECK ("participants"."kind" in ('platform', 'company', 'miner', 'counterparty')),
	CONSTRAINT "participants_platform_check" CHECK (("participants"."kind" in ('company', 'counterparty')) = ("participants"."platform_id" is not null)),
	CONSTRAINT "participants_country_check" CHECK ("participants"."country" ~ '^[A-Z]{2}$'),
	CONSTRAINT "participants_lei_check" CHECK ("participants"."lei" is null or "participants"."lei" ~ '^[0-9A-Z]{18}[0-9]{2}$')
);
--> statement-breakpoint
CREATE TABLE "regions" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "regions_code_check" CHECK ("regions"."code" ~ '^[a-z0-9][a-z0-9-]{0,39}$')
);
--> statement-breakpoint
CREATE TABLE "scheme_jurisdiction" (
	"singleton" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"country" text NOT NULL,
	"name" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "scheme_jurisdiction_singleton" CHECK ("scheme_jurisdiction"."singleton" = 1)
);
--> statement-breakpoint
CREATE TABLE "wallet_addresses" (
	"id" text PRIMARY KEY NOT NULL,
	"wallet_id" text NOT NULL,
	"company_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"derivation_index" integer NOT NULL,
	"address" text NOT NULL,
	"script_hex" text NOT NULL,
	"purpose" text,
	"used_at" timestamp with time zone NOT NULL,
	CONSTRAINT "wallet_addresses_address_unique" UNIQUE("address")
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"id" text PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"network" text NOT NULL,
	"descriptor" text NOT NULL,
	"label" text NOT NULL,
	"next_index" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "wallets_next_index_check" CHECK ("wallets"."next_index" >= 0 and "wallets"."next_index" < 2147483648)
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "counterparty_addresses" ADD CONSTRAINT "counterparty_addresses_counterparty_id_participants_id_fk" FOREIGN KEY ("counterparty_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kyc_records" ADD CONSTRAINT "kyc_records_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "licence_events" ADD CONSTRAINT "licence_events_licence_id_licences_id_fk" FOREIGN KEY ("licence_id") REFERENCES "public"."licences"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "licences" ADD CONSTRAINT "licences_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "participants" ADD CONSTRAINT "participants_platform_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_addresses" ADD CONSTRAINT "wallet_addresses_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_company_id_participants_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "counterparty_addresses_counterparty_idx" ON "counterparty_addresses" USING btree ("counterparty_id");--> statement-breakpoint
CREATE INDEX "licences_participant_idx" ON "licences" USING btree ("participant_id");--> statement-breakpoint
CREATE INDEX "participants_platform_idx" ON "participants" USING btree ("platform_id");--> statement-breakpoint
CREATE UNIQUE INDEX "participants_lei_kind_idx" ON "participants" USING btree ("lei","kind");--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_addresses_index_idx" ON "wallet_addresses" USING btree ("wallet_id","derivation_index");--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_company_idx" ON "wallets" USING btree ("company_id");