import { z } from 'zod';
import { ACCOUNT_PURPOSES } from '../../ledger';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, dateTime } from '../schemas';

export function registerLedgerRoutes(app: TypedApp, deps: AppDeps): void {
  const { ledger, trade } = deps.services;

  app.get(
    '/v1/ledger/balances',
    {
      schema: {
        tags: ['ledger'],
        summary: 'Ledger account balances visible to the caller (sats; positive = debit)',
        querystring: z.object({
          participantId: z.string().max(64).optional(),
          platformId: z.string().max(64).optional(),
        }),
        response: {
          200: z.object({
            accounts: z.array(
              z.object({
                accountId: z.string(),
                participantId: z.string(),
                platformId: z.string().nullable(),
                purpose: z.enum(ACCOUNT_PURPOSES),
                balanceSats: z.string(),
              }),
            ),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const filter = {
        ...(request.query.participantId ? { participantId: request.query.participantId } : {}),
        ...(request.query.platformId ? { platformId: request.query.platformId } : {}),
      };
      const accounts = await ledger.balances(callerOf(request), filter);
      return { accounts: accounts.map((a) => ({ ...a, balanceSats: a.balanceSats.toString() })) };
    },
  );

  app.get(
    '/v1/ledger/statements/:participantId',
    {
      schema: {
        tags: ['ledger'],
        summary: "A company's statement for a period",
        params: z.object({ participantId: z.string().min(1).max(64) }),
        querystring: z.object({
          from: dateTime,
          to: dateTime,
          purpose: z.enum(ACCOUNT_PURPOSES).default('clientFunds'),
        }),
        response: {
          200: z.object({
            participantId: z.string(),
            purpose: z.string(),
            from: z.string(),
            to: z.string(),
            openingSats: z.string(),
            closingSats: z.string(),
            debitsSats: z.string(),
            creditsSats: z.string(),
            lines: z.array(
              z.object({
                transactionId: z.string(),
                at: z.string(),
                kind: z.string(),
                reference: z.string(),
                amountSats: z.string(),
                fiatMinor: z.string().nullable(),
                fiatCurrency: z.string().nullable(),
                balanceSats: z.string(),
              }),
            ),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const s = await ledger.statement(
        callerOf(request),
        request.params.participantId,
        request.query.purpose,
        new Date(request.query.from),
        new Date(request.query.to),
      );
      return {
        participantId: s.participantId,
        purpose: s.purpose,
        from: s.from.toISOString(),
        to: s.to.toISOString(),
        openingSats: s.openingSats.toString(),
        closingSats: s.closingSats.toString(),
        debitsSats: s.debitsSats.toString(),
        creditsSats: s.creditsSats.toString(),
        lines: s.lines.map((l) => ({
          ...l,
          at: l.at.toISOString(),
          amountSats: l.amountSats.toString(),
          fiatMinor: l.fiatMinor?.toString() ?? null,
          balanceSats: l.balanceSats.toString(),
        })),
      };
    },
  );

  app.get(
    '/v1/ledger/reconciliation',
    {
      schema: {
        tags: ['ledger'],
        summary: "Ledger balances against the wallets' unspent coins (difference per company)",
        response: {
          200: z.object({
            lines: z.array(
              z.object({
                companyId: z.string(),
                platformId: z.string(),
                ledgerSats: z.string(),
                trackedSats: z.string(),
                chainSats: z.string().nullable(),
                differenceSats: z.string(),
              }),
            ),
            totalDifferenceSats: z.string(),
            trialBalanceSats: z.string(),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const report = await trade.reconcile(
        callerOf(request, ['supervisor', 'auditor', 'platform']),
      );
      return {
        lines: report.lines.map((l) => ({
          companyId: l.companyId,
          platformId: l.platformId,
          ledgerSats: l.ledgerSats.toString(),
          trackedSats: l.trackedSats.toString(),
          chainSats: l.chainSats?.toString() ?? null,
          differenceSats: l.differenceSats.toString(),
        })),
        totalDifferenceSats: report.totalDifferenceSats.toString(),
        trialBalanceSats: report.trialBalanceSats.toString(),
      };
    },
  );
}
