import { z } from 'zod';
import {
  HELD_REASONS,
  PAY_IN_REFUSALS,
  PAY_IN_STATUSES,
  WINDOW_STATUSES,
  type ObligationView,
  type PayInView,
  type PayOutView,
  type PositionView,
  type ScheduleVersionView,
  type SettlementAddressView,
  type WindowView,
} from '../../clearing';

/**
 * The settlement windows' response schemas and their presenters, shared by the routes of
 * settlement-windows.ts, settlement-pay-ins.ts and settlement-pay-outs.ts.
 */

export const amount = z
  .string()
  .meta({ description: 'sats (BTC) or minor units, as a decimal string' });
export const iso = (d: Date | null) => d?.toISOString() ?? null;
export const READERS = ['supervisor', 'auditor', 'platform'] as const;

export const scheduleVersionSchema = z
  .object({
    version: z.number(),
    periodMinutes: z.number(),
    payInMinutes: z.number(),
    effectiveFrom: z.string(),
    reason: z.string(),
    setBy: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementScheduleVersion' });
export const presentVersion = (v: ScheduleVersionView) => ({
  ...v,
  effectiveFrom: v.effectiveFrom.toISOString(),
  createdAt: v.createdAt.toISOString(),
});

export const windowSchema = z
  .object({
    id: z.string(),
    sequence: z.number(),
    status: z.enum(WINDOW_STATUSES),
    opensAt: z.string(),
    closesAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    payInDeadline: z.string().nullable(),
    settledAt: z.string().nullable(),
    scheduleVersion: z.number().nullable(),
    valuation: z
      .object({
        currency: z.string().nullable(),
        rate: z.string().nullable().meta({ description: 'local currency per BTC, decimal' }),
        rateId: z.string().nullable(),
        fixingId: z.string().nullable().meta({
          description:
            "the reference-rate fixing of the cut-off day the rate was taken from; null: the live source's (no fixing published yet)",
        }),
        unavailableReason: z.string().nullable().meta({
          description:
            'why the window has no valuation (no currency, no fixing and no live rate); it netted in its assets all the same',
        }),
      })
      .nullable()
      .meta({
        id: 'SettlementWindowValuation',
        description:
          'the rate the net positions were valued at when the window closed; null while open (and for windows closed before valuation existed)',
      }),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementWindow' });
export const presentWindow = (w: WindowView) => ({
  ...w,
  opensAt: w.opensAt.toISOString(),
  closesAt: iso(w.closesAt),
  closedAt: iso(w.closedAt),
  payInDeadline: iso(w.payInDeadline),
  settledAt: iso(w.settledAt),
  createdAt: w.createdAt.toISOString(),
});

export const positionSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    platformId: z.string(),
    asset: z.string(),
    netAtClose: amount,
    netSettled: amount.nullable(),
    valueMinor: z.string().nullable().meta({
      description:
        "netAtClose in the window's valuation currency, minor units: a bitcoin net at the window's rate (half-even; the largest net takes the rounding residue, so an asset's values sum to zero), a net in that currency as it is; null without a valuation or for another currency",
    }),
    status: z.enum(['awaiting', 'settled', 'takenOut']),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementPosition' });
export const presentPosition = (p: PositionView) => ({
  ...p,
  netAtClose: p.netAtClose.toString(),
  netSettled: p.netSettled?.toString() ?? null,
  valueMinor: p.valueMinor?.toString() ?? null,
  createdAt: p.createdAt.toISOString(),
});

export const payInSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    platformId: z.string(),
    asset: z.string(),
    amountDue: amount,
    address: z.string().nullable(),
    status: z.enum(PAY_IN_STATUSES).meta({
      description:
        "confirming: the exact amount is in a block short of the scheme's confirmation depth; held: held for the supervisor's review, and it does not count meanwhile (why is not said to the platform); rejected: the supervisor rejected it after review: it counts nothing and is to be returned to the payer; frozen: the supervisor rejected it after review and its coins are frozen, not returned (shown to the supervisor and auditors; its platform sees it as rejected). After a rejected or frozen pay-in the due is reopened as its next attempt at a fresh address, while the pay-in deadline has not passed",
    }),
    attempt: z.number().meta({
      description:
        'the attempt of this due: 1 at the close, one more each time a rejected or frozen pay-in reopened it at a fresh deposit address',
    }),
    txid: z.string().nullable(),
    vout: z.number().nullable(),
    bankReference: z.string().nullable(),
    pendingConfirmation: z
      .object({
        recordedAt: z.string(),
        recordedBy: z
          .string()
          .nullable()
          .meta({ description: 'the person who recorded it (null to a platform)' }),
        amount: amount
          .nullable()
          .meta({ description: 'the recorded amount: null to everyone but its recorder' }),
        bankReference: z
          .string()
          .nullable()
          .meta({ description: 'the recorded reference: null to everyone but its recorder' }),
      })
      .nullable()
      .meta({
        description:
          'a fiat pay-in one person recorded, counted only when a different person confirms the same transfer (four eyes); the second person types the amount and reference from the bank, so they are shown only to the person who recorded them',
      }),
    decision: z
      .object({
        decision: z.enum(['accept', 'reject']),
        reason: z.string(),
        decidedBy: z.string(),
        decidedAt: z.string(),
        caseId: z.string().nullable().meta({
          description: 'the compliance case of the held alert, where the decision is noted',
        }),
      })
      .nullable()
      .meta({
        description:
          "the supervisor's decision on a held pay-in (supervisor and auditors only; null to a platform)",
      }),
    hold: z
      .object({
        reason: z.enum(HELD_REASONS).meta({
          description:
            'listMatch: a paying address is on a sanctions list (rejected, its coins are frozen and reported); unscreenable: an address could not be screened (rejected, it is returned)',
        }),
        alertId: z.string().nullable(),
        caseId: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          'why the pay-in was held, with the screening alert it raised and its case (supervisor and auditors only; null to a platform)',
      }),
    receivedAt: z.string().nullable(),
    refusals: z.array(
      z.object({
        id: z.string(),
        reason: z.enum(PAY_IN_REFUSALS),
        amount,
        txid: z.string().nullable(),
        vout: z.number().nullable(),
        bankReference: z.string().nullable(),
        createdAt: z.string(),
      }),
    ),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementPayIn' });
export const presentPayIn = (p: PayInView) => ({
  ...p,
  amountDue: p.amountDue.toString(),
  pendingConfirmation: p.pendingConfirmation
    ? {
        recordedAt: p.pendingConfirmation.recordedAt.toISOString(),
        recordedBy: p.pendingConfirmation.recordedBy,
        amount: p.pendingConfirmation.amount?.toString() ?? null,
        bankReference: p.pendingConfirmation.bankReference,
      }
    : null,
  decision: p.decision ? { ...p.decision, decidedAt: p.decision.decidedAt.toISOString() } : null,
  receivedAt: iso(p.receivedAt),
  createdAt: p.createdAt.toISOString(),
  refusals: p.refusals.map((r) => ({
    ...r,
    reason: r.reason as (typeof PAY_IN_REFUSALS)[number],
    amount: r.amount.toString(),
    createdAt: r.createdAt.toISOString(),
  })),
});

export const obligationSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    source: z.enum(['deal', 'transfer']),
    sourceId: z.string(),
    fromPlatform: z.string().meta({ description: 'the platform that owes' }),
    toPlatform: z.string().meta({ description: 'the platform owed' }),
    asset: z.string(),
    amount,
    at: z.string(),
    firstWindowId: z.string(),
    rolls: z.number().meta({ description: 'how often a take-out rolled it to a later window' }),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementObligation' });
export const presentObligation = (o: ObligationView) => ({
  ...o,
  amount: o.amount.toString(),
  at: o.at.toISOString(),
  createdAt: o.createdAt.toISOString(),
});

export const payOutSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    platformId: z.string(),
    asset: z.string(),
    kind: z.enum(['payOut', 'refund']),
    amount,
    status: z.string().meta({
      description:
        'instructed (fiat: for the bank; bitcoin: not in a transaction yet), held (bitcoin: the platform registered no settlement address, see heldCode), signed, broadcast, confirmed',
    }),
    heldCode: z.string().nullable().meta({
      description:
        'why a held pay-out waits: SETTLEMENT_ADDRESS_MISSING (for the platform), or for the supervisor TRANSFER_BLOCKED (its address screens clear no more), LICENCE_NOT_ACTIVE or PAY_OUT_BELOW_DUST',
    }),
    address: z.string().nullable().meta({ description: 'bitcoin: the settlement address paid' }),
    txid: z.string().nullable(),
    vout: z.number().nullable(),
    feeSats: amount
      .nullable()
      .meta({ description: 'bitcoin: its share of the network fee (outputs bear it pro rata)' }),
    paidSats: amount
      .nullable()
      .meta({ description: 'bitcoin: what reached the address, the amount less its fee share' }),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementPayOut' });
export const presentPayOut = (p: PayOutView) => ({
  ...p,
  amount: p.amount.toString(),
  feeSats: p.feeSats?.toString() ?? null,
  paidSats: p.paidSats?.toString() ?? null,
  createdAt: p.createdAt.toISOString(),
});

export const settlementAddressSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    network: z.string(),
    address: z.string(),
    status: z.enum(['proposed', 'active', 'superseded', 'rejected']).meta({
      description:
        'four eyes: proposed by one officer, active once another person of the platform approved it, superseded by a later proposal while pending, or rejected',
    }),
    current: z.boolean().meta({
      description: 'the newest active address of the platform: the one the clearing pays',
    }),
    registeredBy: z.string().meta({ description: 'the officer who proposed it' }),
    decidedBy: z
      .string()
      .nullable()
      .meta({ description: 'who approved, rejected or superseded it; null while pending' }),
    decidedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementAddress' });
export const presentAddress = (a: SettlementAddressView) => ({
  ...a,
  decidedAt: iso(a.decidedAt),
  createdAt: a.createdAt.toISOString(),
});
