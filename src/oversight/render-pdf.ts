// pdfkit loads when a report is rendered as PDF, not when the server starts (it brings its
// fonts and their decompressor).
import type { ColumnKind, Report, ReportSection } from './report';

const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;

/** "1234567.89" → "1,234,567.89": digits grouped in threes, on the exact decimal string. */
export function groupDigits(decimal: string): string {
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(decimal);
  if (!match) return decimal;
  const [, sign = '', whole = '', fraction = ''] = match;
  return `${sign}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction}`;
}

const dayMonthYear = (d: Date) =>
  `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCFullYear()}`;
const hourMinute = (d: Date) =>
  `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;

/**
 * A cell that holds an ISO 8601 month, date or date-time, written for a reader: "Jul 2026",
 * "1 Aug 2026", "10 Aug 2026, 14:03 UTC"; null for any other text. The report model keeps ISO
 * strings (exact and sortable, as JSON, CSV and XLSX carry them); only the PDF is read by eye.
 */
export function displayDate(value: string): string | null {
  const month = /^(\d{4})-(\d{2})$/.exec(value);
  if (month) {
    const name = MONTHS[Number(month[2]) - 1];
    return name ? `${name} ${month[1]}` : null;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const d = new Date(`${value}T00:00:00Z`);
    return Number.isNaN(d.getTime()) ? null : dayMonthYear(d);
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/.test(value)) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : `${dayMonthYear(d)}, ${hourMinute(d)} UTC`;
  }
  return null;
}

/** The period as dates: `from` inclusive, `to` exclusive shown as its last day. */
export function periodDates(report: Pick<Report, 'from' | 'to'>): string {
  const from = new Date(report.from);
  const last = new Date(new Date(report.to).getTime() - 24 * 3600 * 1000);
  return `${dayMonthYear(from)} – ${dayMonthYear(last)}`;
}

interface PdfColumn {
  readonly label: string;
  readonly kind: ColumnKind;
  readonly cell: (row: Readonly<Record<string, string>>) => string;
}

/**
 * The columns as printed: numbers grouped, dates spelled out, and the currency written after
 * each fiat amount ("15,000.00 USD") instead of in a column of its own, so that a BTC figure and
 * a currency code never sit side by side.
 */
export function pdfColumns(section: ReportSection): PdfColumn[] {
  const hasFiat = section.columns.some((c) => c.kind === 'fiat');
  const hasCurrency = section.columns.some((c) => c.key === 'currency');
  return section.columns
    .filter((c) => !(hasFiat && hasCurrency && c.key === 'currency'))
    .map((c) => ({
      label: c.label,
      kind: c.kind,
      cell: (row) => {
        const value = row[c.key] ?? '';
        if (value === '') return '';
        switch (c.kind) {
          case 'count':
          case 'sats':
          case 'btc':
            return groupDigits(value);
          case 'fiat':
            return hasCurrency && row.currency
              ? `${groupDigits(value)} ${row.currency}`
              : groupDigits(value);
          case 'text':
            return displayDate(value) ?? value;
        }
      },
    }));
}

const GAP = 14;
const HEADER_Y = 22;
const FOOTER_GAP = 24;

type Doc = PDFKit.PDFDocument;

/**
 * Column widths: each column's widest cell (header included), shrunk in proportion when the
 * table is wider than the page, text columns first (they wrap; numbers should not).
 */
function columnWidths(doc: Doc, columns: readonly PdfColumn[], cells: string[][], width: number) {
  const natural = columns.map((c, i) => {
    doc.font('Helvetica-Bold').fontSize(8);
    let widest = doc.widthOfString(c.label);
    doc.font('Helvetica').fontSize(8);
    for (const row of cells) widest = Math.max(widest, doc.widthOfString(row[i] ?? ''));
    return Math.ceil(widest) + 2;
  });
  const available = width - GAP * (columns.length - 1);
  const total = natural.reduce((a, b) => a + b, 0);
  if (total <= available) return natural;
  const numeric = natural.filter((_, i) => columns[i]?.kind !== 'text').reduce((a, b) => a + b, 0);
  const textScale = Math.max(0.2, (available - numeric) / Math.max(1, total - numeric));
  const scaled = natural.map((w, i) => (columns[i]?.kind === 'text' ? w * textScale : w));
  const after = scaled.reduce((a, b) => a + b, 0);
  return after <= available ? scaled : scaled.map((w) => (w * available) / after);
}

function drawSection(doc: Doc, section: ReportSection, left: number, width: number): void {
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  if (doc.y + 60 > bottom()) doc.addPage();
  doc.font('Helvetica-Bold').fontSize(12).text(section.title, left);
  doc.moveDown(0.3);
  const columns = pdfColumns(section);
  const cells = section.rows.map((row) => columns.map((c) => c.cell(row)));
  const widths = columnWidths(doc, columns, cells, width);
  const headings = columns.map((c) => c.label);
  const drawRow = (row: readonly string[], bold: boolean): void => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
    const heights = row.map((cell, i) => doc.heightOfString(cell, { width: widths[i] ?? 10 }));
    const height = Math.max(10, ...heights) + 3;
    if (doc.y + height > bottom()) {
      doc.addPage();
      // A table continued on a new page repeats its column headings.
      if (!bold) {
        drawRow(headings, true);
        doc.font('Helvetica').fontSize(8);
      }
    }
    const y = doc.y;
    let x = left;
    row.forEach((cell, i) => {
      const w = widths[i] ?? 10;
      doc.text(cell, x, y, { width: w, align: columns[i]?.kind === 'text' ? 'left' : 'right' });
      x += w + GAP;
    });
    if (bold) {
      const ruleY = y + height - 1.5;
      doc
        .moveTo(left, ruleY)
        .lineTo(x - GAP, ruleY)
        .lineWidth(0.5)
        .strokeColor('#888888')
        .stroke();
    }
    doc.x = left;
    doc.y = y + height;
  };
  drawRow(headings, true);
  if (section.rows.length === 0) {
    doc.font('Helvetica-Oblique').fontSize(8).text('No data for this period.', left);
  }
  for (const row of cells) drawRow(row, false);
  doc.moveDown(1);
}

/** The running header (scheme, report, period) and footer (generated at, page n of N). */
function drawPageFrame(doc: Doc, report: Report, page: number, pages: number): void {
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  // Text below the bottom margin would start a new page: lift the margin while writing there.
  const margins = { ...doc.page.margins };
  doc.page.margins = { ...margins, top: 0, bottom: 0 };
  doc.font('Helvetica').fontSize(8).fillColor('#444444');
  doc.text(report.scheme, left, HEADER_Y, { width: width / 2, lineBreak: false });
  doc.text(`${report.title} · ${report.period} (${periodDates(report)})`, left, HEADER_Y, {
    width,
    align: 'right',
    lineBreak: false,
  });
  const footerY = doc.page.height - margins.bottom + FOOTER_GAP / 2;
  doc.text(`Generated ${displayDate(report.generatedAt) ?? report.generatedAt}`, left, footerY, {
    width: width / 2,
    lineBreak: false,
  });
  doc.text(`Page ${page} of ${pages}`, left, footerY, {
    width,
    align: 'right',
    lineBreak: false,
  });
  doc.fillColor('black');
  doc.page.margins = margins;
}

/**
 * A readable A4 landscape layout: on every page a header naming the scheme, the report and its
 * period, and a footer with the generation time and "Page n of N"; then each section as a table
 * (numbers grouped and right-aligned, dates spelled out), continued on new pages as needed.
 * `compress` is off by default: reports are a few pages, and an uncompressed file keeps its text
 * searchable (by tests and by text tools).
 */
export async function renderPdf(
  report: Report,
  options: { compress?: boolean } = {},
): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margins: { top: 48, bottom: 48, left: 40, right: 40 },
    bufferPages: true,
    compress: options.compress ?? false,
    info: {
      Title: `${report.title} ${report.period}`,
      Author: report.scheme,
      Subject: report.title,
      CreationDate: new Date(report.generatedAt),
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  doc.font('Helvetica-Bold').fontSize(16).text(report.title, left, doc.page.margins.top);
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(10);
  doc.text(`Scheme: ${report.scheme}`);
  doc.text(`Period: ${report.period}, ${periodDates(report)}`);
  doc.text(`Generated: ${displayDate(report.generatedAt) ?? report.generatedAt}`);
  doc.moveDown(0.8);
  for (const section of report.sections) drawSection(doc, section, left, width);

  const range = doc.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    drawPageFrame(doc, report, i + 1, range.count);
  }
  doc.end();
  return done;
}
