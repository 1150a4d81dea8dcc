-- Simnet's tables (simnet_blocks, simnet_mempool) now belong to simnet's own migration set
-- (drizzle-simnet/, applied by simnet's store when it opens): they leave this set's schema, but
-- no table is dropped. A database that ran 0004_simnet keeps them, and simnet's set adopts them.
--
-- trade_parties went with LocalPartyDirectory, which alone read it: trade's parties are the
-- registry's (RegistryPartyDirectory). An empty one is dropped; one holding parties is kept,
-- renamed, for the records a supervised scheme must retain (nothing reads it any more).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM "trade_parties") THEN
    ALTER TABLE "trade_parties" RENAME TO "trade_parties_retired";
  ELSE
    DROP TABLE "trade_parties";
  END IF;
END $$;
