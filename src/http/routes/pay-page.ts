import { z } from 'zod';
import { complianceStatus } from '../../compliance';
import { AppError, formatMoney, currency as parseCurrency } from '../../kernel';
import type { InvoiceView } from '../../trade';
import type { AppDeps, TypedApp } from '../app';
import { idParam } from '../schemas';

/**
 * The public page a foreign buyer opens: amount, address, QR code and live status (it polls the
 * status endpoint). No credentials: the invoice id is the capability, as in BTCPay Server.
 */

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/**
 * Whether the buyer may pay: not when compliance refused the invoice. The buyer is told only that
 * it cannot be paid, never why (no tipping-off, FATF R.21: src/compliance/disclosure.ts), and is
 * given no address to pay to.
 */
function payable(i: InvoiceView): boolean {
  return complianceStatus(i.gateOutcome) !== 'refused';
}

function publicStatus(i: InvoiceView) {
  const open = payable(i);
  return {
    id: i.id,
    status: i.status,
    additionalStatus: [...i.additionalStatus],
    payable: open,
    amountBtc: i.amountBtc,
    amountSats: i.amountSats.toString(),
    address: open ? i.address : '',
    paymentUri: open ? i.paymentUri : '',
    fiat: `${formatMoney({ minor: i.fiatMinor, currency: parseCurrency(i.currency) })} ${i.currency}`,
    expiresAt: i.expiresAt.toISOString(),
    seenSats: i.seenSats.toString(),
    confirmedSats: i.confirmedSats.toString(),
  };
}

/** What the buyer reads for each status (BTCPay Server's invoice states). */
const STATUS_TEXT: Record<string, string> = {
  new: 'Waiting for payment',
  processing: 'Payment received, waiting for confirmations',
  settled: 'Paid: thank you',
  expired: 'Expired: ask the seller for a new invoice',
  invalid: 'Invalid: contact the seller',
};

const SUB_TEXT: Record<string, string> = {
  paidPartial: 'partly paid: send the rest',
  paidOver: 'paid more than the amount',
  paidLate: 'paid after expiry',
};

const PAGE_CSS = `
:root{color-scheme:light dark;--bg:#f4f5f8;--card:#fff;--text:#1a1b1e;--muted:#495057;--line:#dee2e6;--accent:#3b2fc9;--ok:#0b7a4b;--warn:#8a5a00;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--bg:#141517;--card:#1f2023;--text:#e9ecef;--muted:#c1c2c5;--line:#373a40;--accent:#9c95ff;--ok:#5fd3a0;--warn:#ffc94d;--bad:#ff8a80}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:30rem;margin:2rem auto;padding:0 1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1{font-size:1.25rem;margin:0 0 .25rem}
.id{color:var(--muted);font-size:.8rem;margin:0 0 1rem;word-break:break-all}
.amount{font-size:2rem;font-weight:800;margin:0}
.fiat{color:var(--muted);margin:0 0 1rem}
.qr{display:block;margin:0 auto 1rem;width:16rem;height:16rem;background:#fff;padding:.5rem;border-radius:8px}
.field{margin:.75rem 0}
.label{display:block;font-size:.8rem;font-weight:700;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.row{display:flex;gap:.5rem;align-items:flex-start}
code{flex:1;word-break:break-all;font-size:.85rem;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.4rem .5rem}
button,.wallet{font:inherit;font-size:.85rem;border-radius:6px;padding:.4rem .75rem;cursor:pointer}
button{background:var(--card);color:var(--text);border:1px solid var(--line)}
.wallet{display:block;text-align:center;margin:1rem 0;background:var(--accent);color:#fff;text-decoration:none;font-weight:700;font-size:1rem;padding:.7rem}
@media (prefers-color-scheme:dark){.wallet{color:#141517}}
.status{display:flex;gap:.5rem;align-items:center;font-weight:700;padding:.6rem .75rem;border-radius:8px;border:1px solid var(--line)}
.status[data-status=settled]{color:var(--ok)}
.status[data-status=processing],.status[data-status=new]{color:var(--warn)}
.status[data-status=expired],.status[data-status=invalid]{color:var(--bad)}
.dot{width:.6rem;height:.6rem;border-radius:50%;background:currentColor}
.muted{color:var(--muted);font-size:.85rem}
footer{text-align:center;color:var(--muted);font-size:.8rem;margin-top:1rem}
`;

/**
 * The public pay page: server-rendered HTML with its CSS inline (no login, no SPA bundle to load
 * on a buyer's phone). The QR's alt text is the BIP21 URI itself, so that a screen reader, a
 * text browser or a test reads what the code encodes.
 */
export function renderPayPage(i: InvoiceView): string {
  if (!payable(i)) return renderRefusedPage(i);
  const s = publicStatus(i);
  const id = escapeHtml(s.id);
  const uri = escapeHtml(s.paymentUri);
  const subText = s.additionalStatus.map((x) => SUB_TEXT[x] ?? x).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay invoice ${id}</title>
<style>${PAGE_CSS}</style>
</head><body>
<main>
<div class="card">
<h1>Pay invoice</h1>
<p class="id">${id}</p>
<p class="amount" data-testid="amount">${escapeHtml(s.amountBtc)} BTC</p>
<p class="fiat">${escapeHtml(s.fiat)}</p>
<img class="qr" src="/pay/${id}/qr.svg" width="256" height="256" alt="${uri}">
<div class="status" id="status" role="status" aria-live="polite" data-status="${escapeHtml(s.status)}"><span class="dot" aria-hidden="true"></span><span id="status-text">${escapeHtml(STATUS_TEXT[s.status] ?? s.status)}</span></div>
<p class="muted" id="sub">${escapeHtml(subText)}</p>
<a class="wallet" href="${uri}">Open in wallet</a>
<div class="field"><span class="label" id="amount-label">Amount (BTC)</span>
<div class="row"><code id="amount-value">${escapeHtml(s.amountBtc)}</code><button type="button" data-copy="amount-value">Copy amount</button></div></div>
<div class="field"><span class="label" id="address-label">Address</span>
<div class="row"><code id="address-value">${escapeHtml(s.address)}</code><button type="button" data-copy="address-value">Copy address</button></div></div>
<div class="field"><span class="label" id="uri-label">Payment URI (BIP21)</span>
<div class="row"><code id="uri-value">${uri}</code><button type="button" data-copy="uri-value">Copy URI</button></div></div>
<p class="muted">Expires <time id="expires" datetime="${escapeHtml(s.expiresAt)}">${escapeHtml(s.expiresAt)}</time></p>
</div>
<footer>Settled under a supervised scheme · Tradeclear</footer>
</main>
<script>
const STATUS_TEXT = ${JSON.stringify(STATUS_TEXT)};
const SUB_TEXT = ${JSON.stringify(SUB_TEXT)};
const expires = document.getElementById('expires');
expires.textContent = new Date(expires.dateTime).toLocaleString();
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    const label = button.textContent;
    try { await navigator.clipboard.writeText(text); button.textContent = 'Copied'; }
    catch { getSelection().selectAllChildren(document.getElementById(button.dataset.copy)); button.textContent = 'Selected: press Ctrl+C'; }
    setTimeout(() => { button.textContent = label; }, 2000);
  });
}
const FINAL = ['settled', 'expired', 'invalid'];
async function poll() {
  try {
    const r = await fetch('/pay/${id}/status');
    if (r.ok) {
      const j = await r.json();
      const box = document.getElementById('status');
      box.dataset.status = j.status;
      document.getElementById('status-text').textContent = STATUS_TEXT[j.status] || j.status;
      document.getElementById('sub').textContent = j.additionalStatus.map((x) => SUB_TEXT[x] || x).join(', ');
      if (FINAL.includes(j.status)) return;
    }
  } catch {}
  setTimeout(poll, 5000);
}
setTimeout(poll, 5000);
</script>
</body></html>`;
}

/** A refused invoice: its id and amount, that it cannot be paid, and nothing of why. */
function renderRefusedPage(i: InvoiceView): string {
  const s = publicStatus(i);
  const id = escapeHtml(s.id);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Invoice ${id}</title>
<style>${PAGE_CSS}</style>
</head><body>
<main>
<div class="card">
<h1>Invoice</h1>
<p class="id">${id}</p>
<p class="amount" data-testid="amount">${escapeHtml(s.amountBtc)} BTC</p>
<p class="fiat">${escapeHtml(s.fiat)}</p>
<div class="status" id="status" role="status" data-status="refused"><span class="dot" aria-hidden="true"></span><span id="status-text">This invoice cannot be paid</span></div>
<p class="muted">Do not send a payment. Contact the seller.</p>
</div>
<footer>Settled under a supervised scheme · Tradeclear</footer>
</main>
</body></html>`;
}

export function registerPayPageRoutes(app: TypedApp, deps: AppDeps): void {
  const invoices = deps.services.trade.invoices;
  const params = idParam('inv');

  app.get('/pay/:id', { schema: { hide: true, params } }, async (request, reply) => {
    const invoice = await invoices.publicView(request.params.id);
    return reply.type('text/html; charset=utf-8').send(renderPayPage(invoice));
  });

  app.get(
    '/pay/:id/status',
    {
      schema: {
        tags: ['trade'],
        summary: 'Public live status of an invoice (for the pay page)',
        params,
        response: {
          200: z.object({
            id: z.string(),
            status: z.string(),
            additionalStatus: z.array(z.string()),
            payable: z.boolean().meta({
              description: 'false when the invoice cannot be paid (address and URI then empty)',
            }),
            amountBtc: z.string(),
            amountSats: z.string(),
            address: z.string(),
            paymentUri: z.string(),
            fiat: z.string(),
            expiresAt: z.string(),
            seenSats: z.string(),
            confirmedSats: z.string(),
          }),
        },
      },
    },
    async (request) => publicStatus(await invoices.publicView(request.params.id)),
  );

  /** No QR code to pay a refused invoice. */
  const ensurePayable = async (id: string) => {
    if (!payable(await invoices.publicView(id)))
      throw new AppError('NOT_FOUND', `invoice ${id} cannot be paid`);
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
