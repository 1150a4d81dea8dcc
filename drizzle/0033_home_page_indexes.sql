CREATE INDEX "mining_blocks_time_idx" ON "mining_blocks" USING btree ("time");--> statement-breakpoint
CREATE INDEX "mining_blocks_height_idx" ON "mining_blocks" USING btree ("height");--> statement-breakpoint
CREATE INDEX "kyc_records_platform_due_idx" ON "kyc_records" USING btree ("platform_id","review_due");--> statement-breakpoint
CREATE INDEX "licences_expiry_idx" ON "licences" USING btree ("valid_to") WHERE "licences"."status" = 'active';