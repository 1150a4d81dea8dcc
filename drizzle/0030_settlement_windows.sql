CREATE TABLE "clearing_obligations" (
	"id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"from_platform" text NOT NULL,
	"to_platform" text NOT NULL,
	"asset" text NOT NULL,
	"amount" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"window_id" text NOT NULL,
	"first_window_id" text NOT NULL,
	"rolls" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_obligations_amount_check" CHECK ("clearing_obligations"."amount" > 0),
	CONSTRAINT "clearing_obligations_parties_check" CHECK ("clearing_obligations"."from_platform" <> "clearing_obligations"."to_platform"),
	CONSTRAINT "clearing_obligations_source_check" CHECK ("clearing_obligations"."source" in ('deal', 'transfer'))
);
--> statement-breakpoint
CREATE TABLE "clearing_pay_in_refusals" (
	"id" text PRIMARY KEY NOT NULL,
	"pay_in_id" text NOT NULL,
	"reason" text NOT NULL,
	"amount" bigint NOT NULL,
	"txid" text,
	"vout" integer,
	"block_hash" text,
	"bank_reference" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clearing_pay_ins" (
	"id" text PRIMARY KEY NOT NULL,
	"window_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"asset" text NOT NULL,
	"amount_due" bigint NOT NULL,
	"address" text,
	"derivation_index" integer,
	"status" text NOT NULL,
	"txid" text,
	"vout" integer,
	"block_hash" text,
	"bank_reference" text,
	"received_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_pay_ins_amount_check" CHECK ("clearing_pay_ins"."amount_due" > 0),
	CONSTRAINT "clearing_pay_ins_status_check" CHECK ("clearing_pay_ins"."status" in ('awaiting', 'received')),
	CONSTRAINT "clearing_pay_ins_btc_address_check" CHECK (("clearing_pay_ins"."asset" = 'BTC') = ("clearing_pay_ins"."address" is not null))
);
--> statement-breakpoint
CREATE TABLE "clearing_pay_outs" (
	"id" text PRIMARY KEY NOT NULL,
	"window_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"asset" text NOT NULL,
	"kind" text NOT NULL,
	"amount" bigint NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_pay_outs_amount_check" CHECK ("clearing_pay_outs"."amount" > 0),
	CONSTRAINT "clearing_pay_outs_kind_check" CHECK ("clearing_pay_outs"."kind" in ('payOut', 'refund'))
);
--> statement-breakpoint
CREATE TABLE "clearing_positions" (
	"id" text NOT NULL,
	"window_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"asset" text NOT NULL,
	"net_at_close" bigint NOT NULL,
	"net_settled" bigint,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_positions_window_id_platform_id_asset_pk" PRIMARY KEY("window_id","platform_id","asset"),
	CONSTRAINT "clearing_positions_status_check" CHECK ("clearing_positions"."status" in ('awaiting', 'settled', 'takenOut'))
);
--> statement-breakpoint
CREATE TABLE "clearing_window_postings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"window_id" text NOT NULL,
	"entry" text NOT NULL,
	"kind" text NOT NULL,
	"account" text NOT NULL,
	"asset" text NOT NULL,
	"amount" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_window_postings_nonzero" CHECK ("clearing_window_postings"."amount" <> 0)
);
--> statement-breakpoint
CREATE TABLE "clearing_window_schedules" (
	"version" integer PRIMARY KEY NOT NULL,
	"period_minutes" integer NOT NULL,
	"pay_in_minutes" integer NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"set_by" text NOT NULL,
	"set_by_person" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_window_schedules_period_check" CHECK ("clearing_window_schedules"."period_minutes" between 1 and 1440 and 1440 % "clearing_window_schedules"."period_minutes" = 0 and "clearing_window_schedules"."pay_in_minutes" between 1 and 1440)
);
--> statement-breakpoint
CREATE TABLE "clearing_windows" (
	"id" text PRIMARY KEY NOT NULL,
	"sequence" integer NOT NULL,
	"status" text NOT NULL,
	"opens_at" timestamp with time zone NOT NULL,
	"closes_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"pay_in_deadline" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"schedule_version" integer,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "clearing_windows_status_check" CHECK ("clearing_windows"."status" in ('open', 'closed', 'settled'))
);
--> statement-breakpoint
ALTER TABLE "clearing_obligations" ADD CONSTRAINT "clearing_obligations_window_id_clearing_windows_id_fk" FOREIGN KEY ("window_id") REFERENCES "public"."clearing_windows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_pay_in_refusals" ADD CONSTRAINT "clearing_pay_in_refusals_pay_in_id_clearing_pay_ins_id_fk" FOREIGN KEY ("pay_in_id") REFERENCES "public"."clearing_pay_ins"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_pay_ins" ADD CONSTRAINT "clearing_pay_ins_window_id_clearing_windows_id_fk" FOREIGN KEY ("window_id") REFERENCES "public"."clearing_windows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_pay_outs" ADD CONSTRAINT "clearing_pay_outs_window_id_clearing_windows_id_fk" FOREIGN KEY ("window_id") REFERENCES "public"."clearing_windows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_positions" ADD CONSTRAINT "clearing_positions_window_id_clearing_windows_id_fk" FOREIGN KEY ("window_id") REFERENCES "public"."clearing_windows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clearing_window_postings" ADD CONSTRAINT "clearing_window_postings_window_id_clearing_windows_id_fk" FOREIGN KEY ("window_id") REFERENCES "public"."clearing_windows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_obligations_source_idx" ON "clearing_obligations" USING btree ("source","source_id","asset");--> statement-breakpoint
CREATE INDEX "clearing_obligations_window_idx" ON "clearing_obligations" USING btree ("window_id");--> statement-breakpoint
CREATE INDEX "clearing_pay_in_refusals_pay_in_idx" ON "clearing_pay_in_refusals" USING btree ("pay_in_id");--> statement-breakpoint
CREATE INDEX "clearing_pay_in_refusals_block_idx" ON "clearing_pay_in_refusals" USING btree ("block_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_ins_due_idx" ON "clearing_pay_ins" USING btree ("window_id","platform_id","asset");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_ins_address_idx" ON "clearing_pay_ins" USING btree ("address");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_ins_derivation_idx" ON "clearing_pay_ins" USING btree ("derivation_index");--> statement-breakpoint
CREATE INDEX "clearing_pay_ins_block_idx" ON "clearing_pay_ins" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "clearing_pay_ins_page_idx" ON "clearing_pay_ins" USING btree ("window_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_pay_outs_due_idx" ON "clearing_pay_outs" USING btree ("window_id","platform_id","asset","kind");--> statement-breakpoint
CREATE INDEX "clearing_pay_outs_page_idx" ON "clearing_pay_outs" USING btree ("window_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_positions_id_idx" ON "clearing_positions" USING btree ("id");--> statement-breakpoint
CREATE INDEX "clearing_positions_page_idx" ON "clearing_positions" USING btree ("window_id","created_at","id");--> statement-breakpoint
CREATE INDEX "clearing_window_postings_window_idx" ON "clearing_window_postings" USING btree ("window_id","account","asset");--> statement-breakpoint
CREATE INDEX "clearing_window_postings_entry_idx" ON "clearing_window_postings" USING btree ("entry");--> statement-breakpoint
CREATE INDEX "clearing_window_schedules_effective_idx" ON "clearing_window_schedules" USING btree ("effective_from","version");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_windows_sequence_idx" ON "clearing_windows" USING btree ("sequence");--> statement-breakpoint
CREATE UNIQUE INDEX "clearing_windows_one_open_idx" ON "clearing_windows" USING btree ("status") WHERE "clearing_windows"."status" = 'open';--> statement-breakpoint
CREATE INDEX "clearing_windows_page_idx" ON "clearing_windows" USING btree ("created_at","id");--> statement-breakpoint
-- The clearing's books per window: the postings of one entry sum to zero per asset, judged at
-- commit (or when the writer runs SET CONSTRAINTS … IMMEDIATE).
CREATE FUNCTION clearing_window_postings_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
BEGIN
  SELECT COALESCE(SUM(amount), 0) INTO total FROM clearing_window_postings
    WHERE entry = NEW.entry AND asset = NEW.asset;
  IF total <> 0 THEN
    RAISE EXCEPTION 'LEDGER_UNBALANCED: clearing entry % does not balance in %: postings sum to %', NEW.entry, NEW.asset, total
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER clearing_window_postings_balanced AFTER INSERT ON clearing_window_postings
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION clearing_window_postings_check_balanced();
--> statement-breakpoint
-- Postings are never changed or removed: a rolled obligation is reversed by new postings.
CREATE FUNCTION clearing_window_postings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'clearing_window_postings is append-only: % refused', TG_OP USING ERRCODE = 'P0001';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER clearing_window_postings_no_update BEFORE UPDATE OR DELETE ON clearing_window_postings
  FOR EACH ROW EXECUTE FUNCTION clearing_window_postings_append_only();
