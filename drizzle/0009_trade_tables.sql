CREATE TABLE "trade_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"status" text NOT NULL,
	"psbt" text NOT NULL,
	"raw_tx" text,
	"txid" text,
	"replaced_txids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"fee_sats" bigint NOT NULL,
	"fee_rate_sat_per_kvb" bigint NOT NULL,
	"vsize" integer NOT NULL,
	"broadcast_height" integer,
	"broadcast_attempts" integer DEFAULT 0 NOT NULL,
	"last_broadcast_error" text,
	"confirmed_block_hash" text,
	"confirmed_height" integer,
	"confirmed_txid" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "trade_batches_status" CHECK ("trade_batches"."status" in ('awaitingSignature', 'signed', 'broadcast', 'confirmed', 'completed', 'abandoned'))
);
--> statement-breakpoint
CREATE TABLE "trade_contract_instalments" (
	"contract_id" text NOT NULL,
	"seq" integer NOT NULL,
	"due_date" text NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "trade_contract_instalments_contract_id_seq_pk" PRIMARY KEY("contract_id","seq"),
	CONSTRAINT "trade_instalment_amount" CHECK ("trade_contract_instalments"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "trade_contracts" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"company_id" text NOT NULL,
	"counterparty_id" text NOT NULL,
	"direction" text NOT NULL,
	"goods_description" text NOT NULL,
	"hs_code" text NOT NULL,
	"incoterm" text NOT NULL,
	"currency" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"pricing_mode" text NOT NULL,
	"btc_amount_sats" bigint,
	"customs_declaration_ref" text,
	"status" text NOT NULL,
	"supervisor_approval" text NOT NULL,
	"settled_amount" bigint DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "trade_contracts_hs_code" CHECK ("trade_contracts"."hs_code" ~ '^[0-9]{6}$'),
	CONSTRAINT "trade_contracts_direction" CHECK ("trade_contracts"."direction" in ('export', 'import')),
	CONSTRAINT "trade_contracts_status" CHECK ("trade_contracts"."status" in ('draft', 'submitted', 'approved', 'active', 'settled', 'cancelled', 'disputed')),
	CONSTRAINT "trade_contracts_pricing" CHECK (("trade_contracts"."pricing_mode" = 'fixedBtc' and "trade_contracts"."btc_amount_sats" > 0) or ("trade_contracts"."pricing_mode" = 'fiat' and "trade_contracts"."btc_amount_sats" is null)),
	CONSTRAINT "trade_contracts_amount" CHECK ("trade_contracts"."amount_minor" > 0 and "trade_contracts"."settled_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "trade_invoice_payments" (
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"invoice_id" text NOT NULL,
	"value_sats" bigint NOT NULL,
	"block_hash" text,
	"block_height" integer,
	"signals_rbf" boolean DEFAULT false NOT NULL,
	"seen_at" timestamp with time zone NOT NULL,
	"late" boolean DEFAULT false NOT NULL,
	CONSTRAINT "trade_invoice_payments_txid_vout_pk" PRIMARY KEY("txid","vout")
);
--> statement-breakpoint
CREATE TABLE "trade_invoices" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"company_id" text NOT NULL,
	"contract_id" text NOT NULL,
	"counterparty_id" text NOT NULL,
	"address" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"contract_amount" bigint NOT NULL,
	"fiat_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"rate_id" text NOT NULL,
	"status" text NOT NULL,
	"paid_partial" boolean DEFAULT false NOT NULL,
	"paid_over" boolean DEFAULT false NOT NULL,
	"paid_late" boolean DEFAULT false NOT NULL,
	"seen_sats" bigint DEFAULT 0 NOT NULL,
	"confirmed_sats" bigint DEFAULT 0 NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"watch_until" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"settlement_id" text,
	CONSTRAINT "trade_invoices_status" CHECK ("trade_invoices"."status" in ('new', 'processing', 'settled', 'expired', 'invalid')),
	CONSTRAINT "trade_invoices_amount" CHECK ("trade_invoices"."amount_sats" > 0)
);
--> statement-breakpoint
CREATE TABLE "trade_parties" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"platform_id" text,
	"name" text NOT NULL,
	"country" text NOT NULL,
	"verified" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trade_payout_approvals" (
	"payout_id" text NOT NULL,
	"actor_id" text NOT NULL,
	"participant_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "trade_payout_approvals_payout_id_actor_id_pk" PRIMARY KEY("payout_id","actor_id")
);
--> statement-breakpoint
CREATE TABLE "trade_payouts" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"company_id" text NOT NULL,
	"contract_id" text NOT NULL,
	"counterparty_id" text NOT NULL,
	"address" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"contract_amount" bigint NOT NULL,
	"fiat_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"rate_id" text NOT NULL,
	"status" text NOT NULL,
	"required_approvals" integer NOT NULL,
	"gate_decision" jsonb NOT NULL,
	"batch_id" text,
	"vout" integer,
	"fee_share_sats" bigint DEFAULT 0 NOT NULL,
	"memo" text DEFAULT '' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"approved_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL,
	"settlement_id" text,
	CONSTRAINT "trade_payouts_status" CHECK ("trade_payouts"."status" in ('awaitingApproval', 'awaitingPayment', 'inProgress', 'completed', 'cancelled')),
	CONSTRAINT "trade_payouts_amount" CHECK ("trade_payouts"."amount_sats" > 0)
);
--> statement-breakpoint
CREATE TABLE "trade_settings" (
	"platform_id" text PRIMARY KEY NOT NULL,
	"confirmations" integer NOT NULL,
	"invoice_validity_seconds" integer NOT NULL,
	"late_payment_window_seconds" integer NOT NULL,
	"tolerance_bps" integer NOT NULL,
	"quorum_threshold_sats" bigint NOT NULL,
	"approvals_above" integer NOT NULL,
	"approvals_below" integer NOT NULL,
	"batch_window_seconds" integer NOT NULL,
	"fee_floor_sat_per_kvb" bigint NOT NULL,
	"fee_cap_sat_per_kvb" bigint NOT NULL,
	"fee_target_blocks" integer NOT NULL,
	"rbf_after_blocks" integer NOT NULL,
	"supervisor_thresholds" jsonb NOT NULL,
	"webhook_url" text,
	"webhook_secret" text,
	"last_batch_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "trade_settings_confirmations" CHECK ("trade_settings"."confirmations" in (0, 1, 2, 6)),
	CONSTRAINT "trade_settings_approvals" CHECK ("trade_settings"."approvals_above" >= 1 and "trade_settings"."approvals_below" >= 1),
	CONSTRAINT "trade_settings_fees" CHECK ("trade_settings"."fee_floor_sat_per_kvb" >= 1000 and "trade_settings"."fee_cap_sat_per_kvb" >= "trade_settings"."fee_floor_sat_per_kvb")
);
--> statement-breakpoint
CREATE TABLE "trade_settlements" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"reference" text NOT NULL,
	"platform_id" text NOT NULL,
	"company_id" text NOT NULL,
	"contract_id" text NOT NULL,
	"rate_id" text NOT NULL,
	"amount_sats" bigint NOT NULL,
	"fiat_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"txid" text NOT NULL,
	"block_hash" text,
	"ledger_transaction_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"reversed_at" timestamp with time zone,
	"reversal_ledger_transaction_id" text
);
--> statement-breakpoint
CREATE TABLE "trade_signer_keys" (
	"platform_id" text PRIMARY KEY NOT NULL,
	"salt" text NOT NULL,
	"iv" text NOT NULL,
	"tag" text NOT NULL,
	"ciphertext" text NOT NULL,
	"scrypt_n" integer NOT NULL,
	"network" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trade_wallet_addresses" (
	"address" text PRIMARY KEY NOT NULL,
	"company_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"branch" integer NOT NULL,
	"index" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trade_wallet_utxos" (
	"txid" text NOT NULL,
	"vout" integer NOT NULL,
	"company_id" text NOT NULL,
	"platform_id" text NOT NULL,
	"address" text NOT NULL,
	"value_sats" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"block_height" integer NOT NULL,
	"spent_by_txid" text,
	"spent_in_block" text,
	"reserved_by_batch" text,
	CONSTRAINT "trade_wallet_utxos_txid_vout_pk" PRIMARY KEY("txid","vout"),
	CONSTRAINT "trade_wallet_utxos_value" CHECK ("trade_wallet_utxos"."value_sats" > 0)
);
--> statement-breakpoint
CREATE TABLE "trade_wallets" (
	"company_id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"descriptor" text NOT NULL,
	"next_receive" integer DEFAULT 0 NOT NULL,
	"next_change" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trade_webhook_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"platform_id" text NOT NULL,
	"event" text NOT NULL,
	"entity_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"last_status" integer,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "trade_contract_instalments" ADD CONSTRAINT "trade_contract_instalments_contract_id_trade_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."trade_contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trade_invoice_payments" ADD CONSTRAINT "trade_invoice_payments_invoice_id_trade_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."trade_invoices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trade_invoices" ADD CONSTRAINT "trade_invoices_contract_id_trade_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."trade_contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trade_payout_approvals" ADD CONSTRAINT "trade_payout_approvals_payout_id_trade_payouts_id_fk" FOREIGN KEY ("payout_id") REFERENCES "public"."trade_payouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD CONSTRAINT "trade_payouts_contract_id_trade_contracts_id_fk" FOREIGN KEY ("contract_id") REFERENCES "public"."trade_contracts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trade_payouts" ADD CONSTRAINT "trade_payouts_batch_id_trade_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."trade_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "trade_batches_txid_uq" ON "trade_batches" USING btree ("txid");--> statement-breakpoint
CREATE INDEX "trade_contracts_company_idx" ON "trade_contracts" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "trade_contracts_platform_idx" ON "trade_contracts" USING btree ("platform_id");--> statement-breakpoint
CREATE INDEX "trade_invoice_payments_invoice_idx" ON "trade_invoice_payments" USING btree ("invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "trade_invoices_address_uq" ON "trade_invoices" USING btree ("address");--> statement-breakpoint
CREATE INDEX "trade_invoices_status_idx" ON "trade_invoices" USING btree ("status");--> statement-breakpoint
CREATE INDEX "trade_payouts_status_idx" ON "trade_payouts" USING btree ("platform_id","status");--> statement-breakpoint
CREATE INDEX "trade_settlements_reference_idx" ON "trade_settlements" USING btree ("reference");--> statement-breakpoint
CREATE UNIQUE INDEX "trade_wallet_addresses_path_uq" ON "trade_wallet_addresses" USING btree ("company_id","branch","index");--> statement-breakpoint
CREATE INDEX "trade_wallet_utxos_company_idx" ON "trade_wallet_utxos" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "trade_webhook_outbox_due_idx" ON "trade_webhook_outbox" USING btree ("delivered_at","next_attempt_at");