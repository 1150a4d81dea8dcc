CREATE TABLE "chain_watcher_blocks" (
	"watcher" text NOT NULL,
	"height" integer NOT NULL,
	"hash" text NOT NULL,
	"previous_hash" text,
	"time" bigint NOT NULL,
	"connected_at" timestamp with time zone NOT NULL,
	CONSTRAINT "chain_watcher_blocks_watcher_height_pk" PRIMARY KEY("watcher","height")
);
--> statement-breakpoint
CREATE TABLE "chain_watcher_consumers" (
	"watcher" text NOT NULL,
	"consumer" text NOT NULL,
	"start_height" integer NOT NULL,
	"registered_at" timestamp with time zone NOT NULL,
	CONSTRAINT "chain_watcher_consumers_watcher_consumer_pk" PRIMARY KEY("watcher","consumer")
);
