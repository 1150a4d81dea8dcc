CREATE TABLE "outbox_deliveries" (
	"subscriber" text NOT NULL,
	"seq" bigint NOT NULL,
	"handled_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	CONSTRAINT "outbox_deliveries_subscriber_seq_pk" PRIMARY KEY("subscriber","seq")
);
--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "outbox_deliveries_pending_idx" ON "outbox_deliveries" USING btree ("subscriber","next_attempt_at") WHERE handled_at is null;--> statement-breakpoint
CREATE INDEX "outbox_events_topic_seq_idx" ON "outbox_events" USING btree ("topic","seq");