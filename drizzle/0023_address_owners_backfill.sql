-- One address, one owner: every address the registry and mining already hold claims its row.
-- Counterparty addresses first, then company wallet addresses, then miner payout addresses; an
-- address held twice before this migration keeps its first owner here (the later registration
-- stays as it was, and any new registration of it is refused).
INSERT INTO "address_owners" ("address", "owner_id", "role", "created_at")
SELECT "address", "counterparty_id", 'counterparty_address', "created_at" FROM "counterparty_addresses"
ON CONFLICT ("address") DO NOTHING;--> statement-breakpoint
INSERT INTO "address_owners" ("address", "owner_id", "role", "created_at")
SELECT "address", "company_id", 'company_wallet', "used_at" FROM "wallet_addresses"
ON CONFLICT ("address") DO NOTHING;--> statement-breakpoint
INSERT INTO "address_owners" ("address", "owner_id", "role", "created_at")
SELECT "address", "miner_id", 'payout_address', "created_at" FROM "mining_payout_addresses"
ON CONFLICT ("address") DO NOTHING;
