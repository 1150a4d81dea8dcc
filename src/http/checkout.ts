/**
 * The buyer's checkout (`/pay/:id`), as BTCPay Server's: who is asking for the money and for
 * what, the amount in BTC and in the invoice's currency (formatted in the buyer's locale), a
 * countdown, the remainder of a partial payment, and the QR code, wallet link and address only
 * while the invoice can be paid. Server-rendered HTML with its CSS and script inline (no login,
 * no application bundle to load on a buyer's phone); the script polls `/pay/:id/status`.
 */

/** What the checkout shows of an invoice (see routes/pay-page.ts). */
export interface Checkout {
  id: string;
  /** The seller's registered legal name. */
  seller: string;
  /** What the company typed when issuing the invoice ('' for none). */
  description: string;
  /** The invoice's status, or `refused` when compliance refused it (never why). */
  status: 'new' | 'processing' | 'settled' | 'expired' | 'invalid' | 'refused';
  additionalStatus: string[];
  /** Whether the buyer should pay now: QR, wallet link and address are shown only then. */
  canPay: boolean;
  amountBtc: string;
  /** Still to pay, in BTC (the whole amount until something is paid). */
  dueBtc: string;
  fiatMinor: string;
  currency: string;
  /** The currency's decimal places (ISO 4217). */
  digits: number;
  /** The fiat amount as the server writes it (`900.00 USD`), before the browser's formatting. */
  fiat: string;
  address: string;
  paymentUri: string;
  expiresAt: string;
  /**
   * Seconds until expiry by the server's clock: the countdown runs from it, so a buyer's phone
   * set to the wrong time still shows the right countdown.
   */
  secondsLeft: number;
  /** `mainnet`, or the test network named in a banner. */
  network: string;
}

export const STATUS_TEXT: Record<Checkout['status'], string> = {
  new: 'Waiting for payment',
  processing: 'Payment received, waiting for confirmations',
  settled: 'Paid: thank you',
  expired: 'Expired: ask the seller for a new invoice',
  invalid: 'Invalid: contact the seller',
  refused: 'This invoice cannot be paid',
};

const SUB_TEXT: Record<string, string> = {
  paidPartial: 'Partly paid: send the rest',
  paidOver: 'Paid more than the amount',
  paidLate: 'Paid after expiry',
};

/** The favicon, inline (the checkout loads nothing else from the server but its QR code). */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%233b2fc9'/%3E%3Cpath d='M8 9h16v4h-6v12h-4V13H8z' fill='%23fff'/%3E%3C/svg%3E";

const CSS = `
:root{color-scheme:light dark;--bg:#f4f5f8;--card:#fff;--text:#1a1b1e;--muted:#495057;--line:#dee2e6;--accent:#3b2fc9;--ok:#0b7a4b;--warn:#8a5a00;--bad:#b3261e;--banner:#fff4d6}
@media (prefers-color-scheme:dark){:root{--bg:#141517;--card:#1f2023;--text:#e9ecef;--muted:#c1c2c5;--line:#373a40;--accent:#9c95ff;--ok:#5fd3a0;--warn:#ffc94d;--bad:#ff8a80;--banner:#3a2f10}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:30rem;margin:2rem auto;padding:0 1rem}
.banner{background:var(--banner);border:1px solid var(--warn);color:var(--text);border-radius:8px;padding:.5rem .75rem;margin:0 0 1rem;font-size:.9rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.06)}
.seller{font-size:1.25rem;font-weight:700;margin:0}
.description{margin:.25rem 0 0;color:var(--muted)}
.id{color:var(--muted);font-size:.8rem;margin:.25rem 0 1rem;word-break:break-all}
.amount{font-size:2rem;font-weight:800;margin:0}
.fiat{color:var(--muted);margin:0 0 1rem}
.due{font-weight:700;margin:.5rem 0}
.qr{display:block;margin:1rem auto;width:16rem;height:16rem;background:#fff;padding:.5rem;border-radius:8px}
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
.status[data-status=expired],.status[data-status=invalid],.status[data-status=refused]{color:var(--bad)}
.dot{width:.6rem;height:.6rem;border-radius:50%;background:currentColor}
.muted{color:var(--muted);font-size:.85rem}
footer{text-align:center;color:var(--muted);font-size:.8rem;margin-top:1rem}
`;

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** JSON safe inside a <script> element (no `</script>` or `<!--` from typed text). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/svg+xml" href="${FAVICON}">
<style>${CSS}</style>
</head><body>
<main>
${body}
<footer>Settled under a supervised scheme · Tradeclear</footer>
</main>${script}
</body></html>`;
}

function banner(network: string): string {
  if (network === 'mainnet') return '';
  return `<p class="banner" role="note" data-testid="network-banner"><strong>Test network (${escapeHtml(network)}).</strong> Coins on it have no value: do not send real bitcoin.</p>`;
}

function copyField(id: string, label: string, value: string, button: string): string {
  return `<div class="field"><span class="label" id="${id}-label">${label}</span>
<div class="row"><code id="${id}-value">${escapeHtml(value)}</code><button type="button" data-copy="${id}-value">${button}</button></div></div>`;
}

/** The QR code, wallet link and copyable fields, rendered only while the invoice can be paid. */
function payBlock(c: Checkout): string {
  const id = escapeHtml(c.id);
  const uri = escapeHtml(c.paymentUri);
  return `<div id="pay">
<img class="qr" src="/pay/${id}/qr.svg" width="256" height="256" alt="${uri}">
<a class="wallet" href="${uri}">Open in wallet</a>
${copyField('amount', 'Amount (BTC)', c.dueBtc, 'Copy amount')}
${copyField('address', 'Address', c.address, 'Copy address')}
${copyField('uri', 'Payment URI (BIP21)', c.paymentUri, 'Copy URI')}
<p class="muted">Expires in <span id="countdown" data-testid="countdown">…</span> (<time id="expires" datetime="${escapeHtml(c.expiresAt)}">${escapeHtml(c.expiresAt)}</time>)</p>
</div>`;
}

export function renderCheckout(c: Checkout): string {
  const id = escapeHtml(c.id);
  const sub = c.additionalStatus.map((x) => SUB_TEXT[x] ?? x).join(', ');
  const partial = c.additionalStatus.includes('paidPartial') && c.canPay;
  const body = `${banner(c.network)}<div class="card">
<p class="seller" data-testid="seller">${escapeHtml(c.seller)}</p>
${c.description ? `<p class="description" data-testid="description">${escapeHtml(c.description)}</p>` : ''}
<p class="id">Invoice ${id}</p>
<p class="amount" id="amount-text" data-testid="amount">${escapeHtml(c.amountBtc)} BTC</p>
<p class="fiat" id="fiat" data-testid="fiat">${escapeHtml(c.fiat)}</p>
<div class="status" id="status" role="status" aria-live="polite" data-status="${escapeHtml(c.status)}"><span class="dot" aria-hidden="true"></span><span id="status-text">${escapeHtml(STATUS_TEXT[c.status])}</span></div>
<p class="muted" id="sub">${escapeHtml(sub)}</p>
<p class="due" id="due" data-testid="due"${partial ? '' : ' hidden'}>Remaining to pay: <span id="due-btc">${escapeHtml(c.dueBtc)}</span> BTC</p>
${c.canPay ? payBlock(c) : c.status === 'refused' ? '<p class="muted">Do not send a payment. Contact the seller.</p>' : ''}
</div>`;
  const title = c.status === 'refused' ? `Invoice ${c.id}` : `Pay ${c.seller}`;
  if (c.status === 'refused') return page(title, body);
  return page(title, body, `\n<script>const CHECKOUT = ${scriptJson(c)};\n${SCRIPT}</script>`);
}

export function renderNotFound(): string {
  return page(
    'Invoice not found',
    `<div class="card"><p class="seller">Invoice not found</p>
<p>There is no invoice at this address. Check the link the seller sent you, or ask them for a new one.</p></div>`,
  );
}

/** The checkout's behaviour in the browser: locale formatting, copy buttons, countdown, polling. */
const SCRIPT = `
const STATUS_TEXT = ${scriptJson(STATUS_TEXT)};
const SUB_TEXT = ${scriptJson(SUB_TEXT)};
const FINAL = ['settled', 'expired', 'invalid'];
const $ = (id) => document.getElementById(id);
const btc = (text) => {
  const [whole, fraction = ''] = text.split('.');
  return new Intl.NumberFormat(undefined).format(BigInt(whole)) + '.' + fraction.padEnd(8, '0');
};
try {
  $('fiat').textContent = new Intl.NumberFormat(undefined, {
    style: 'currency', currency: CHECKOUT.currency,
    minimumFractionDigits: CHECKOUT.digits, maximumFractionDigits: CHECKOUT.digits,
  }).format(Number(CHECKOUT.fiatMinor) / 10 ** CHECKOUT.digits);
} catch {}
$('amount-text').textContent = btc(CHECKOUT.amountBtc) + ' BTC';
const expires = $('expires');
if (expires) expires.textContent = new Date(CHECKOUT.expiresAt).toLocaleString();
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const text = $(button.dataset.copy).textContent;
    const label = button.textContent;
    try { await navigator.clipboard.writeText(text); button.textContent = 'Copied'; }
    catch { getSelection().selectAllChildren($(button.dataset.copy)); button.textContent = 'Selected: press Ctrl+C'; }
    setTimeout(() => { button.textContent = label; }, 2000);
  });
}
function show(status, additional, canPay, dueBtc) {
  $('status').dataset.status = status;
  $('status-text').textContent = STATUS_TEXT[status] || status;
  $('sub').textContent = additional.map((x) => SUB_TEXT[x] || x).join(', ');
  const partial = canPay && additional.includes('paidPartial');
  $('due').hidden = !partial;
  if (dueBtc) $('due-btc').textContent = dueBtc;
  if (partial && $('amount-value')) $('amount-value').textContent = dueBtc;
  if (!canPay && $('pay')) $('pay').remove();
}
let deadline = performance.now() + CHECKOUT.secondsLeft * 1000;
function countdown() {
  const clock = $('countdown');
  if (!clock || !$('pay')) return;
  const left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
  const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
  const two = (n) => String(n).padStart(2, '0');
  clock.textContent = h > 0 ? h + ':' + two(m) + ':' + two(s) : m + ':' + two(s);
  if (left === 0) { show('expired', [], false, ''); return; }
  setTimeout(countdown, 1000);
}
countdown();
async function poll() {
  try {
    const r = await fetch('/pay/' + encodeURIComponent(CHECKOUT.id) + '/status');
    if (r.ok) {
      const j = await r.json();
      deadline = performance.now() + j.secondsLeft * 1000;
      show(j.status, j.additionalStatus, j.canPay, j.dueBtc);
      if (FINAL.includes(j.status)) return;
    }
  } catch {}
  setTimeout(poll, 5000);
}
if (!FINAL.includes(CHECKOUT.status)) setTimeout(poll, 5000);
`;
