CREATE TABLE "compliance_exposure" (
	"address" text NOT NULL,
	"node" text NOT NULL,
	"hops" integer NOT NULL,
	CONSTRAINT "compliance_exposure_address_node_pk" PRIMARY KEY("address","node"),
	CONSTRAINT "compliance_exposure_hops" CHECK ("compliance_exposure"."hops" >= 0)
);
--> statement-breakpoint
CREATE TABLE "compliance_exposure_state" (
	"singleton" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"lists_key" text NOT NULL,
	"max_hops" integer NOT NULL,
	"built_at" timestamp with time zone NOT NULL,
	CONSTRAINT "compliance_exposure_state_singleton" CHECK ("compliance_exposure_state"."singleton" = 1)
);
--> statement-breakpoint
CREATE INDEX "compliance_exposure_node_idx" ON "compliance_exposure" USING btree ("node");--> statement-breakpoint
-- The nodes of the transfer graph a transfer joins: its company, its counterparty and, when it
-- has one, its address (an invoice decided before anyone paid has none).
CREATE FUNCTION compliance_transfer_nodes(company_id text, counterparty_id text, address text)
RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN address = '' THEN ARRAY['p:' || company_id, 'p:' || counterparty_id]
              ELSE ARRAY['p:' || company_id, 'p:' || counterparty_id, 'a:' || address] END
$$;
--> statement-breakpoint
-- The nodes one hop from a node: those of every transfer not blocked (blocked ones moved
-- nothing) that joins it.
CREATE FUNCTION compliance_exposure_neighbours(node text)
RETURNS SETOF text LANGUAGE sql STABLE AS $$
  SELECT unnest(compliance_transfer_nodes(t.company_id, t.counterparty_id, t.counterparty_address))
    FROM compliance_transfers t
   WHERE left(node, 2) = 'p:' AND t.company_id = substr(node, 3) AND t.outcome <> 'block'
  UNION ALL
  SELECT unnest(compliance_transfer_nodes(t.company_id, t.counterparty_id, t.counterparty_address))
    FROM compliance_transfers t
   WHERE left(node, 2) = 'p:' AND t.counterparty_id = substr(node, 3) AND t.outcome <> 'block'
  UNION ALL
  SELECT unnest(compliance_transfer_nodes(t.company_id, t.counterparty_id, t.counterparty_address))
    FROM compliance_transfers t
   WHERE left(node, 2) = 'a:' AND t.counterparty_address = substr(node, 3) AND t.outcome <> 'block'
$$;
--> statement-breakpoint
-- Recomputes, breadth-first, every node within max_hops of one listed address.
-- (JIT is off in these functions: their generic plans' estimates are far above what they
-- touch, and compiling them would cost more than running them.)
CREATE FUNCTION compliance_exposure_refresh(listed text, max_hops int)
RETURNS void LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  DELETE FROM compliance_exposure WHERE address = listed;
  INSERT INTO compliance_exposure (address, node, hops)
  WITH RECURSIVE reach(node, hops) AS (
    SELECT 'a:' || listed, 0
    UNION
    SELECT n.node, r.hops + 1
      FROM reach r CROSS JOIN LATERAL compliance_exposure_neighbours(r.node) AS n(node)
     WHERE r.hops < max_hops
  )
  SELECT listed, node, min(hops) FROM reach GROUP BY node;
END;
$$;
--> statement-breakpoint
-- A new link between `nodes` (a transfer not blocked): each listed address within reach of one
-- of them comes one hop further than that from the others, and the nodes whose distance shrank
-- pass it on to their neighbours, up to max_hops. Distances only shrink when a link is added,
-- and a node whose distance did not shrink changes nothing beyond it.
CREATE FUNCTION compliance_exposure_link(nodes text[], max_hops int)
RETURNS void LANGUAGE sql SET jit = off AS $$
  WITH RECURSIVE base AS (
    SELECT e.address, min(e.hops) AS hops
      FROM compliance_exposure e WHERE e.node = ANY(nodes) GROUP BY e.address
  ), wave(address, node, hops) AS (
    SELECT b.address, n.node, b.hops + 1
      FROM base b CROSS JOIN unnest(nodes) AS n(node)
     WHERE b.hops + 1 <= max_hops
       AND NOT EXISTS (SELECT 1 FROM compliance_exposure e
                        WHERE e.address = b.address AND e.node = n.node AND e.hops <= b.hops + 1)
    UNION
    SELECT w.address, nb.node, w.hops + 1
      FROM wave w CROSS JOIN LATERAL compliance_exposure_neighbours(w.node) AS nb(node)
     WHERE w.hops + 1 <= max_hops
       AND NOT EXISTS (SELECT 1 FROM compliance_exposure e
                        WHERE e.address = w.address AND e.node = nb.node AND e.hops <= w.hops + 1)
  )
  INSERT INTO compliance_exposure (address, node, hops)
  SELECT address, node, min(hops) FROM wave GROUP BY address, node
  ON CONFLICT (address, node) DO UPDATE SET hops = least(compliance_exposure.hops, excluded.hops)
$$;
--> statement-breakpoint
-- Keeps compliance_exposure current as the gate writes compliance_transfers. The advisory lock
-- (7233101, taken shared here and exclusively by a rebuild) keeps a rebuild from missing a
-- transfer written meanwhile. Until the gate first builds the table there is nothing to keep.
CREATE FUNCTION compliance_exposure_on_transfer()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  hops_limit int;
  listed text;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7233101);
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
--> statement-breakpoint
CREATE TRIGGER compliance_exposure_on_transfer AFTER INSERT OR UPDATE ON compliance_transfers
  FOR EACH ROW EXECUTE FUNCTION compliance_exposure_on_transfer();
