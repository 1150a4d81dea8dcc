import { z } from 'zod';
import { complianceStatus } from '../../compliance';
import {
  AppError,
  currencyExponent,
  formatBtc,
  formatMoney,
  isAppError,
  currency as parseCurrency,
  systemCaller,
} from '../../kernel';
import type { InvoiceView } from '../../trade';
import type { AppDeps, TypedApp } from '../app';
import { renderCheckout, renderNotFound, type Checkout } from '../checkout';
import { idParam } from '../schemas';

/**
 * The public checkout a foreign buyer opens (rendered in ../checkout.ts), its live status and its
 * QR code. No credentials: the invoice id is the capability, as in BTCPay Server.
 */

/**
 * Whether the invoice is refused: compliance blocked it. The buyer is told only that it cannot
 * be paid, never why (no tipping-off, FATF R.21: src/compliance/disclosure.ts), and is given no
 * address to pay to.
 */
function refused(i: InvoiceView): boolean {
  return complianceStatus(i.gateOutcome) === 'refused';
}

/** What remains to pay: the amount less what has been seen paying it (never below zero). */
function dueSats(i: InvoiceView): bigint {
  const due = i.amountSats - i.seenSats;
  return due > 0n ? due : 0n;
}

/**
 * Whether the buyer should pay now: an invoice compliance has not refused, not yet expired, and
 * waiting for its payment or the rest of a partial one.
 */
function canPay(i: InvoiceView, now: Date): boolean {
  if (refused(i) || i.expiresAt.getTime() <= now.getTime()) return false;
  return (
    i.status === 'new' || (i.status === 'processing' && i.additionalStatus.includes('paidPartial'))
  );
}

function checkoutOf(i: InvoiceView, seller: string, network: string, now: Date): Checkout {
  const open = canPay(i, now);
  const code = parseCurrency(i.currency);
  return {
    id: i.id,
    seller,
    description: i.description,
    status: refused(i) ? 'refused' : i.status,
    additionalStatus: [...i.additionalStatus],
    canPay: open,
    amountBtc: i.amountBtc,
    dueBtc: formatBtc(dueSats(i)),
    fiatMinor: i.fiatMinor.toString(),
    currency: i.currency,
    digits: currencyExponent(code),
    fiat: `${formatMoney({ minor: i.fiatMinor, currency: code })} ${i.currency}`,
    address: open ? i.address : '',
    paymentUri: open ? i.paymentUri : '',
    expiresAt: i.expiresAt.toISOString(),
    secondsLeft: Math.max(0, Math.floor((i.expiresAt.getTime() - now.getTime()) / 1000)),
    network,
  };
}

function publicStatus(c: Checkout, i: InvoiceView) {
  return {
    id: c.id,
    status: c.status === 'refused' ? i.status : c.status,
    additionalStatus: c.additionalStatus,
    payable: c.status !== 'refused',
    canPay: c.canPay,
    amountBtc: c.amountBtc,
    amountSats: i.amountSats.toString(),
    dueBtc: c.dueBtc,
    dueSats: dueSats(i).toString(),
    address: c.address,
    paymentUri: c.paymentUri,
    fiat: c.fiat,
    expiresAt: c.expiresAt,
    secondsLeft: c.secondsLeft,
    seenSats: i.seenSats.toString(),
    confirmedSats: i.confirmedSats.toString(),
  };
}

export function registerPayPageRoutes(app: TypedApp, deps: AppDeps): void {
  const invoices = deps.services.trade.invoices;
  const params = idParam('inv');
  // Simnet is regtest; every other chain names its network (config refuses otherwise).
  const network = deps.config.NETWORK ?? 'regtest';

  const checkout = async (id: string) => {
    const invoice = await invoices.publicView(id);
    const seller = await deps.services.registry.getParticipant(
      systemCaller('checkout'),
      invoice.companyId,
    );
    return {
      invoice,
      checkout: checkoutOf(invoice, seller.legalName, network, deps.clock.now()),
    };
  };

  // A page for people: an unknown or malformed id gets an HTML page, not the API's JSON error.
  app.get(
    '/pay/:id',
    { schema: { hide: true, params: z.object({ id: z.string().max(100) }) } },
    async (request, reply) => {
      const { id } = request.params;
      if (!params.shape.id.safeParse(id).success)
        return reply.status(404).type('text/html; charset=utf-8').send(renderNotFound());
      try {
        const found = await checkout(id);
        return reply.type('text/html; charset=utf-8').send(renderCheckout(found.checkout));
      } catch (error) {
        if (isAppError(error) && error.code === 'INVOICE_NOT_FOUND')
          return reply.status(404).type('text/html; charset=utf-8').send(renderNotFound());
        throw error;
      }
    },
  );

  app.get(
    '/pay/:id/status',
    {
      config: { roles: 'public' },
      schema: {
        tags: ['trade'],
        summary: 'Public live status of an invoice (for the checkout)',
        description:
          'The live status of an invoice for its public checkout page: no credentials, and only what the payer needs (amount, address, state).',
        params,
        response: {
          200: z
            .object({
              id: z.string(),
              status: z.string(),
              additionalStatus: z.array(z.string()),
              payable: z.boolean().meta({
                description: 'false when the invoice cannot be paid (address and URI then empty)',
              }),
              canPay: z.boolean().meta({
                description:
                  'whether the buyer should pay now: payable, not expired, waiting for its payment or the rest of it',
              }),
              amountBtc: z.string(),
              amountSats: z.string(),
              dueBtc: z.string().meta({ description: 'still to pay, in BTC' }),
              dueSats: z.string(),
              address: z.string(),
              paymentUri: z.string(),
              fiat: z.string(),
              expiresAt: z.string(),
              secondsLeft: z
                .number()
                .meta({ description: "seconds until expiry by the server's clock" }),
              seenSats: z.string(),
              confirmedSats: z.string(),
            })
            .meta({ id: 'CheckoutStatus' }),
        },
      },
    },
    async (request) => {
      const found = await checkout(request.params.id);
      return publicStatus(found.checkout, found.invoice);
    },
  );

  /** No QR code once the invoice cannot be paid (refused, expired, paid). */
  const ensurePayable = async (id: string) => {
    if (!(await checkout(id)).checkout.canPay)
      throw new AppError('NOT_FOUND', `invoice ${id} cannot be paid now`);
  };

  app.get('/pay/:id/qr.svg', { schema: { hide: true, params } }, async (request, reply) => {
    await ensurePayable(request.params.id);
    const svg = await invoices.qrCode(request.params.id, 'svg');
    return reply.type('image/svg+xml').send(svg);
  });

  app.get('/pay/:id/qr.png', { schema: { hide: true, params } }, async (request, reply) => {
    await ensurePayable(request.params.id);
    const png = await invoices.qrCode(request.params.id, 'png');
    return reply.type('image/png').send(Buffer.from(png));
  });
}
