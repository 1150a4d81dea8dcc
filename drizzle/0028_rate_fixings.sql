CREATE TABLE "rate_fixing_settings" (
	"version" integer PRIMARY KEY NOT NULL,
	"cutoff_time" text NOT NULL,
	"currencies" jsonb NOT NULL,
	"sources" jsonb NOT NULL,
	"min_sources" integer NOT NULL,
	"max_deviation_bps" integer NOT NULL,
	"single_source_reason" text,
	"set_by" text NOT NULL,
	"set_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rate_fixing_settings_min" CHECK ("rate_fixing_settings"."min_sources" >= 1),
	CONSTRAINT "rate_fixing_settings_single" CHECK ("rate_fixing_settings"."min_sources" >= 2 or "rate_fixing_settings"."single_source_reason" is not null),
	CONSTRAINT "rate_fixing_settings_deviation" CHECK ("rate_fixing_settings"."max_deviation_bps" between 0 and 10000)
);
--> statement-breakpoint
CREATE TABLE "rate_fixings" (
	"id" text PRIMARY KEY NOT NULL,
	"quote" text NOT NULL,
	"date" text NOT NULL,
	"version" integer NOT NULL,
	"digits" bigint NOT NULL,
	"scale" integer NOT NULL,
	"method" text NOT NULL,
	"sources" jsonb NOT NULL,
	"settings_version" integer NOT NULL,
	"min_sources" integer NOT NULL,
	"max_deviation_bps" integer NOT NULL,
	"published_by" text NOT NULL,
	"supersedes" text,
	"reason" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rate_fixings_positive" CHECK ("rate_fixings"."digits" > 0 and "rate_fixings"."scale" between 0 and 12),
	CONSTRAINT "rate_fixings_version" CHECK ("rate_fixings"."version" >= 1),
	CONSTRAINT "rate_fixings_correction" CHECK (("rate_fixings"."version" = 1) = ("rate_fixings"."supersedes" is null) and ("rate_fixings"."supersedes" is null) = ("rate_fixings"."reason" is null))
);
--> statement-breakpoint
ALTER TABLE "exchange_rates" ADD COLUMN "fixing_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "rate_fixings_quote_date_version_uq" ON "rate_fixings" USING btree ("quote","date","version");--> statement-breakpoint
CREATE UNIQUE INDEX "rate_fixings_supersedes_uq" ON "rate_fixings" USING btree ("supersedes");--> statement-breakpoint
CREATE INDEX "rate_fixings_page_idx" ON "rate_fixings" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "rate_fixings_quote_page_idx" ON "rate_fixings" USING btree ("quote","created_at","id");--> statement-breakpoint
ALTER TABLE "exchange_rates" ADD CONSTRAINT "exchange_rates_fixing_id_rate_fixings_id_fk" FOREIGN KEY ("fixing_id") REFERENCES "public"."rate_fixings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Fixings and their settings are never overwritten: a correction is a new version.
CREATE FUNCTION rate_fixings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'P0001';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER rate_fixings_no_update BEFORE UPDATE OR DELETE ON rate_fixings
  FOR EACH ROW EXECUTE FUNCTION rate_fixings_append_only();
--> statement-breakpoint
CREATE TRIGGER rate_fixing_settings_no_update BEFORE UPDATE OR DELETE ON rate_fixing_settings
  FOR EACH ROW EXECUTE FUNCTION rate_fixings_append_only();
