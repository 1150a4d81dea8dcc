-- Double-entry: the postings of a ledger transaction sum to zero. Checked by a deferred
-- constraint trigger, so a transaction's postings may be inserted one by one and are judged
-- together at commit (or when the writer runs SET CONSTRAINTS … IMMEDIATE).
CREATE FUNCTION ledger_postings_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
BEGIN
  SELECT COALESCE(SUM(amount_sats), 0) INTO total FROM ledger_postings
    WHERE transaction_id = NEW.transaction_id;
  IF total <> 0 THEN
    RAISE EXCEPTION 'LEDGER_UNBALANCED: ledger transaction % does not balance: postings sum to % sats', NEW.transaction_id, total
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_postings_check_balanced();
--> statement-breakpoint
-- Postings are never changed or removed: a mistake is corrected by a reversal.
CREATE FUNCTION ledger_postings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_postings is append-only: % refused', TG_OP USING ERRCODE = 'P0001';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE OR DELETE ON ledger_postings
  FOR EACH ROW EXECUTE FUNCTION ledger_postings_append_only();
