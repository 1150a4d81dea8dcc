-- Foreign keys from mining tables to registry tables (the schema files do not import each other).
ALTER TABLE "mining_sites" ADD CONSTRAINT "mining_sites_miner_fk" FOREIGN KEY ("miner_id") REFERENCES "public"."participants"("id");--> statement-breakpoint
ALTER TABLE "mining_sites" ADD CONSTRAINT "mining_sites_region_fk" FOREIGN KEY ("region_code") REFERENCES "public"."regions"("code");--> statement-breakpoint
ALTER TABLE "mining_payout_addresses" ADD CONSTRAINT "mining_payout_addresses_miner_fk" FOREIGN KEY ("miner_id") REFERENCES "public"."participants"("id");--> statement-breakpoint
ALTER TABLE "mining_bans" ADD CONSTRAINT "mining_bans_region_fk" FOREIGN KEY ("region_code") REFERENCES "public"."regions"("code");--> statement-breakpoint
-- A site belongs to a miner: only participants of kind miner may own one.
CREATE FUNCTION mining_require_miner() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM participants WHERE id = NEW.miner_id AND kind = 'miner') THEN
    RAISE EXCEPTION 'participant % is not a miner', NEW.miner_id USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER mining_sites_miner_kind BEFORE INSERT OR UPDATE ON "mining_sites" FOR EACH ROW EXECUTE FUNCTION mining_require_miner();
