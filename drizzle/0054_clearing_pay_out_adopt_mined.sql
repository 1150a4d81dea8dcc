ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "mined_txid" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "mined_block_hash" text;--> statement-breakpoint
ALTER TABLE "clearing_pay_out_transactions" ADD COLUMN "mined_block_height" integer;--> statement-breakpoint
-- Transactions held before these columns: the mined txid and its block from the recorded reason.
UPDATE "clearing_pay_out_transactions" SET
  "mined_txid" = substring("last_error" from '^replaced transaction ([0-9a-f]{64}) mined'),
  "mined_block_hash" = substring("last_error" from ' mined in block ([0-9a-f]{64}) '),
  "mined_block_height" = substring("last_error" from ' at height ([0-9]+)$')::integer
WHERE "status" = 'held' AND "held_code" = 'REPLACED_TRANSACTION_MINED';
