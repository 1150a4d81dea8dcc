-- One wallet per company: the registry's. Trade kept wallets of its own (trade_wallets,
-- trade_wallet_addresses) beside the registry's, and invoices and payouts took their addresses
-- there. Every trade wallet becomes (or merges into) its company's registry wallet, with every
-- address it handed out, before trade's tables go. Nothing is handed out twice afterwards: the
-- next indexes only move forward.
DO $$
DECLARE
  orphan text;
BEGIN
  SELECT tw.company_id INTO orphan FROM trade_wallets tw
    WHERE NOT EXISTS (
      SELECT 1 FROM participants p WHERE p.id = tw.company_id AND p.kind = 'company'
    )
    LIMIT 1;
  IF orphan IS NOT NULL THEN
    RAISE EXCEPTION 'the trade wallet of % belongs to no company of the registry: register the company before migrating', orphan;
  END IF;
END;
$$;
--> statement-breakpoint
-- A company with both wallets keeps trade's descriptor: its invoices were paid to it and its
-- payouts signed for it. Where the registry's descriptor differs (compared without the checksum,
-- hardened steps written as h), the addresses the registry handed out under it, which nothing
-- watched on chain, are dropped; the audit log keeps their wallet.address_derived events.
DELETE FROM wallet_addresses a
  USING wallets w, trade_wallets tw
  WHERE a.wallet_id = w.id
    AND tw.company_id = w.company_id
    AND replace(split_part(w.descriptor, '#', 1), '''', 'h')
      <> replace(split_part(tw.descriptor, '#', 1), '''', 'h')
    AND NOT EXISTS (SELECT 1 FROM trade_wallet_addresses ta WHERE ta.address = a.address);
--> statement-breakpoint
UPDATE wallets w SET
    descriptor = CASE
      WHEN replace(split_part(w.descriptor, '#', 1), '''', 'h')
        <> replace(split_part(tw.descriptor, '#', 1), '''', 'h')
      THEN tw.descriptor
      ELSE w.descriptor
    END,
    next_index = greatest(w.next_index, tw.next_receive),
    next_change_index = greatest(w.next_change_index, tw.next_change)
  FROM trade_wallets tw
  WHERE tw.company_id = w.company_id;
--> statement-breakpoint
-- A company with a trade wallet only gets a registry wallet with trade's descriptor, on the
-- scheme's network (one per deployment: read from the rows that name it, else from the wallet's
-- own addresses and key).
INSERT INTO wallets
    (id, company_id, platform_id, network, descriptor, label, next_index, next_change_index, created_at)
  SELECT
    'wal_' || substr(tw.company_id, 5),
    tw.company_id,
    tw.platform_id,
    coalesce(
      (SELECT min(network) FROM wallets),
      (SELECT min(network) FROM counterparty_addresses),
      (SELECT min(network) FROM trade_signer_keys),
      CASE
        WHEN EXISTS (SELECT 1 FROM trade_wallet_addresses ta
                     WHERE ta.company_id = tw.company_id AND ta.address LIKE 'bcrt1%') THEN 'regtest'
        WHEN EXISTS (SELECT 1 FROM trade_wallet_addresses ta
                     WHERE ta.company_id = tw.company_id AND ta.address LIKE 'tb1%') THEN 'testnet'
        WHEN tw.descriptor ~ '[xyzYZ]pub' THEN 'mainnet'
        ELSE 'regtest'
      END
    ),
    tw.descriptor,
    'default',
    tw.next_receive,
    tw.next_change,
    now()
  FROM trade_wallets tw
  WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.company_id = tw.company_id);
--> statement-breakpoint
-- Every address trade handed out, on its branch and index, with the invoice it was for.
INSERT INTO wallet_addresses
    (id, wallet_id, company_id, platform_id, branch, derivation_index, address, purpose, used_at)
  SELECT
    'adr_' || upper(substr(md5(ta.address), 1, 26)),
    w.id,
    ta.company_id,
    w.platform_id,
    ta.branch,
    ta.index,
    ta.address,
    CASE
      WHEN i.id IS NOT NULL THEN 'invoice ' || i.id
      WHEN ta.branch = 1 THEN 'change'
    END,
    coalesce(i.created_at, now())
  FROM trade_wallet_addresses ta
  JOIN wallets w ON w.company_id = ta.company_id
  LEFT JOIN trade_invoices i ON i.address = ta.address
  ON CONFLICT DO NOTHING;
--> statement-breakpoint
UPDATE wallets w SET
    next_index = greatest(w.next_index, coalesce(
      (SELECT max(a.derivation_index) + 1 FROM wallet_addresses a
        WHERE a.wallet_id = w.id AND a.branch = 0), 0)),
    next_change_index = greatest(w.next_change_index, coalesce(
      (SELECT max(a.derivation_index) + 1 FROM wallet_addresses a
        WHERE a.wallet_id = w.id AND a.branch = 1), 0));
--> statement-breakpoint
DO $$
DECLARE
  lost text;
BEGIN
  SELECT ta.address INTO lost FROM trade_wallet_addresses ta
    WHERE NOT EXISTS (
      SELECT 1 FROM wallet_addresses a
        JOIN wallets w ON w.id = a.wallet_id
        WHERE a.address = ta.address AND w.company_id = ta.company_id
          AND a.branch = ta.branch AND a.derivation_index = ta.index
    )
    LIMIT 1;
  IF lost IS NOT NULL THEN
    RAISE EXCEPTION 'address % of a trade wallet could not be moved to its registry wallet', lost;
  END IF;
END;
$$;
--> statement-breakpoint
DROP TABLE "trade_wallet_addresses" CASCADE;--> statement-breakpoint
DROP TABLE "trade_wallets" CASCADE;
