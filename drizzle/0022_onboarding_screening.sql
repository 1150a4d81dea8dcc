CREATE TABLE "address_owners" (
	"address" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "address_owners_role_check" CHECK ("address_owners"."role" in ('counterparty_address', 'company_wallet', 'payout_address'))
);
--> statement-breakpoint
CREATE TABLE "vasps" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"other_names" jsonb NOT NULL,
	"lei" text NOT NULL,
	"jurisdiction" text NOT NULL,
	"licence_authority" text NOT NULL,
	"licence_number" text NOT NULL,
	"licence_status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "vasps_lei_unique" UNIQUE("lei"),
	CONSTRAINT "vasps_lei_check" CHECK ("vasps"."lei" ~ '^[0-9A-Z]{18}[0-9]{2}$'),
	CONSTRAINT "vasps_jurisdiction_check" CHECK ("vasps"."jurisdiction" ~ '^[A-Z]{2}$'),
	CONSTRAINT "vasps_licence_status_check" CHECK ("vasps"."licence_status" in ('active', 'suspended', 'revoked'))
);
--> statement-breakpoint
ALTER TABLE "counterparty_addresses" DROP CONSTRAINT "counterparty_addresses_proof_check";--> statement-breakpoint
ALTER TABLE "compliance_party_hits" ADD COLUMN "platform_id" text;--> statement-breakpoint
ALTER TABLE "compliance_party_hits" ADD COLUMN "review" text DEFAULT 'open' NOT NULL;--> statement-breakpoint
ALTER TABLE "compliance_party_hits" ADD COLUMN "reviews" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "counterparty_addresses" ADD COLUMN "vasp_id" text;--> statement-breakpoint
CREATE INDEX "address_owners_owner_idx" ON "address_owners" USING btree ("owner_id");--> statement-breakpoint
ALTER TABLE "counterparty_addresses" ADD CONSTRAINT "counterparty_addresses_vasp_id_vasps_id_fk" FOREIGN KEY ("vasp_id") REFERENCES "public"."vasps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "compliance_party_hits_platform_idx" ON "compliance_party_hits" USING btree ("platform_id");--> statement-breakpoint
ALTER TABLE "compliance_party_hits" ADD CONSTRAINT "compliance_party_hits_review" CHECK ("compliance_party_hits"."review" in ('open', 'false_positive', 'confirmed', 'blocked', 'released'));--> statement-breakpoint
ALTER TABLE "counterparty_addresses" ADD CONSTRAINT "counterparty_addresses_proof_check" CHECK (("counterparty_addresses"."ownership" = 'hosted' and ("counterparty_addresses"."vasp_id" is not null or "counterparty_addresses"."vasp_name" is not null)) or ("counterparty_addresses"."ownership" = 'self_hosted' and "counterparty_addresses"."proof_signature" is not null and "counterparty_addresses"."proof_message" is not null));