-- The exposure trigger no longer takes an advisory lock: the gate writes compliance_transfers
-- only while holding the audit head row lock (which every audited writer holds until it commits),
-- and rebuilds the exposure table under it too, so the table's upkeep is already serialized —
-- and a second lock, taken in another order by some writers, could deadlock with a rebuild.
CREATE OR REPLACE FUNCTION compliance_exposure_on_transfer()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  hops_limit int;
  listed text;
BEGIN
  SELECT s.max_hops INTO hops_limit FROM compliance_exposure_state s WHERE s.singleton = 1;
  IF hops_limit IS NULL THEN
    RETURN NULL;
  END IF;
  -- A link went away (the transfer, decided again, is blocked now or joins other nodes): what
  -- was reached through it is searched for again.
  IF TG_OP = 'UPDATE' AND OLD.outcome <> 'block' AND (
       NEW.outcome = 'block'
       OR (OLD.company_id, OLD.counterparty_id, OLD.counterparty_address)
          IS DISTINCT FROM (NEW.company_id, NEW.counterparty_id, NEW.counterparty_address)) THEN
    FOR listed IN
      SELECT DISTINCT e.address FROM compliance_exposure e
       WHERE e.node = ANY(compliance_transfer_nodes(OLD.company_id, OLD.counterparty_id, OLD.counterparty_address))
    LOOP
      PERFORM compliance_exposure_refresh(listed, hops_limit);
    END LOOP;
  END IF;
  -- Most transfers are nowhere near a listed address: then there is nothing to update.
  IF NEW.outcome <> 'block' AND EXISTS (
       SELECT 1 FROM compliance_exposure e
        WHERE e.node = ANY(compliance_transfer_nodes(NEW.company_id, NEW.counterparty_id, NEW.counterparty_address))) THEN
    PERFORM compliance_exposure_link(
      compliance_transfer_nodes(NEW.company_id, NEW.counterparty_id, NEW.counterparty_address),
      hops_limit);
  END IF;
  RETURN NULL;
END;
$$;
