-- Simnet's tables (simnet_blocks, simnet_mempool) now belong to simnet's own migration set
-- (drizzle-simnet/, applied by simnet's store when it opens): they leave this set's schema, but
-- no table is dropped. A database that ran 0004_simnet keeps them, and simnet's set adopts them.
--
-- trade_parties went with LocalPartyDirectory, which alone read it: trade's parties are the
-- registry's (RegistryPartyDirectory).
DROP TABLE "trade_parties";
