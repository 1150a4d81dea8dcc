// The PDF and XLSX writers load when a report is rendered in that format, not when the server
// starts (pdfkit brings its fonts and their decompressor).
import type { Cell, Row, Sheet } from 'write-excel-file/node';
import type { ColumnKind, Report, ReportSection } from './report';
import { fiatExponent } from './report';

export const REPORT_FORMATS = ['json', 'csv', 'xlsx', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  readonly contentType: string;
  readonly filename: string;
  readonly body: Buffer;
}

export function reportFilename(report: Report, format: ReportFormat): string {
  return `${report.kind}-${report.period}.${format}`;
}

// ------------------------------------------------------------------ CSV (RFC 4180)

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string): string {
  // A leading =, +, - or @ would make a spreadsheet evaluate the cell as a formula (OWASP
  // "CSV injection"); text cells that start so are prefixed with an apostrophe. Numbers are
  // left alone so that negative nets stay numbers.
  const safe = /^[=+\-@]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/**
 * One CSV file: a `report` block (scheme, period, generation time), then one block per
 * section, each with its own header row whose first field is `section` and every row starting
 * with the section id; blocks are separated by an empty line.
 */
export function renderCsv(report: Report): string {
  let out = csvLine(['section', 'field', 'value']);
  for (const [field, value] of [
    ['title', report.title],
    ['scheme', report.scheme],
    ['period', report.period],
    ['from', report.from],
    ['to', report.to],
    ['generatedAt', report.generatedAt],
  ] as const) {
    out += csvLine(['report', field, value]);
  }
  for (const section of report.sections) {
    out += '\r\n';
    out += csvLine(['section', ...section.columns.map((c) => c.key)]);
    for (const row of section.rows) {
      out += csvLine([section.id, ...section.columns.map((c) => row[c.key] ?? '')]);
    }
  }
  return out;
}

// ------------------------------------------------------------------ XLSX

/**
 * Counts and sats are written as numbers when they are safe integers (every amount under the
 * 21 M BTC cap is: 2.1e15 < 2^53), so a spreadsheet can sum them exactly. BTC and fiat are
 * written as numbers too (Excel holds numbers as IEEE doubles; the decimal string is the
 * exact value and the double its nearest) with a format showing every decimal; the `sats`
 * column beside them is the exact figure.
 */
function xlsxCell(value: string, kind: ColumnKind, currency: string | undefined): Cell {
  if (value === '') return null;
  if (kind === 'count' || kind === 'sats') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? { value: n, type: Number, format: '0' } : value;
  }
  if (kind === 'btc') return { value: Number(value), type: Number, format: '0.00000000' };
  if (kind === 'fiat') {
    const exponent = currency ? fiatExponent(currency) : 2;
    return {
      value: Number(value),
      type: Number,
      format: exponent > 0 ? `#,##0.${'0'.repeat(exponent)}` : '#,##0',
    };
  }
  return value;
}

function sectionSheet(section: ReportSection): Sheet<Buffer> {
  const header: Row = section.columns.map((c) => ({ value: c.label, fontWeight: 'bold' }));
  const rows: Row[] = section.rows.map((row) =>
    section.columns.map((c) => xlsxCell(row[c.key] ?? '', c.kind, row.currency)),
  );
  return {
    // Excel limits sheet names to 31 characters.
    sheet: section.id.slice(0, 31),
    data: [header, ...rows],
    columns: section.columns.map((c) => ({
      width: Math.max(12, Math.min(40, c.label.length + 2)),
    })),
  };
}

/** A workbook: a `report` sheet (scheme, period, generated at) and one sheet per section. */
export async function renderXlsx(report: Report): Promise<Buffer> {
  const cover: Sheet<Buffer> = {
    sheet: 'report',
    data: [
      [{ value: report.title, fontWeight: 'bold' }],
      ['Scheme', report.scheme],
      ['Period', report.period],
      ['From', report.from],
      ['To (exclusive)', report.to],
      ['Generated at', report.generatedAt],
    ],
    columns: [{ width: 16 }, { width: 48 }],
  };
  const { default: writeXlsxFile } = await import('write-excel-file/node');
  return writeXlsxFile([cover, ...report.sections.map(sectionSheet)]).toBuffer();
}

// ------------------------------------------------------------------ PDF

/**
 * A readable A4 landscape layout: title, scheme, period and generation time, then each section
 * as a table (numbers right-aligned), continued on new pages as needed. `compress` is passed
 * off by default: reports are a few pages, and an uncompressed file keeps its text searchable
 * (by tests and by text tools).
 */
export async function renderPdf(
  report: Report,
  options: { compress?: boolean } = {},
): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 40,
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
  const bottom = () => doc.page.height - doc.page.margins.bottom;

  doc.font('Helvetica-Bold').fontSize(16).text(report.title, left, doc.page.margins.top);
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(10);
  doc.text(`Scheme: ${report.scheme}`);
  doc.text(`Period: ${report.period} (${report.from} to ${report.to}, end exclusive)`);
  doc.text(`Generated at: ${report.generatedAt}`);
  doc.moveDown(0.8);

  for (const section of report.sections) {
    if (doc.y + 60 > bottom()) doc.addPage();
    doc.font('Helvetica-Bold').fontSize(12).text(section.title, left);
    doc.moveDown(0.3);
    const columnWidth = width / Math.max(1, section.columns.length);
    const drawRow = (cells: readonly string[], bold: boolean, kinds: readonly ColumnKind[]) => {
      doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
      const heights = cells.map((cell) => doc.heightOfString(cell, { width: columnWidth - 4 }));
      const height = Math.max(10, ...heights) + 3;
      if (doc.y + height > bottom()) doc.addPage();
      const y = doc.y;
      cells.forEach((cell, i) => {
        const kind = kinds[i] ?? 'text';
        doc.text(cell, left + i * columnWidth, y, {
          width: columnWidth - 4,
          align: kind === 'text' ? 'left' : 'right',
          lineBreak: true,
        });
      });
      doc.x = left;
      doc.y = y + height;
    };
    const kinds = section.columns.map((c) => c.kind);
    drawRow(
      section.columns.map((c) => c.label),
      true,
      kinds,
    );
    if (section.rows.length === 0) {
      doc.font('Helvetica-Oblique').fontSize(8).text('No data for this period.', left);
    }
    for (const row of section.rows) {
      drawRow(
        section.columns.map((c) => row[c.key] ?? ''),
        false,
        kinds,
      );
    }
    doc.moveDown(1);
  }
  doc.end();
  return done;
}

// ------------------------------------------------------------------ dispatch

export async function renderReport(
  report: Report,
  format: ReportFormat,
  options: { compressPdf?: boolean } = {},
): Promise<RenderedReport> {
  const filename = reportFilename(report, format);
  switch (format) {
    case 'json':
      return {
        contentType: 'application/json; charset=utf-8',
        filename,
        body: Buffer.from(JSON.stringify(report, null, 2)),
      };
    case 'csv':
      return {
        contentType: 'text/csv; charset=utf-8',
        filename,
        body: Buffer.from(renderCsv(report)),
      };
    case 'xlsx':
      return {
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        filename,
        body: await renderXlsx(report),
      };
    case 'pdf':
      return {
        contentType: 'application/pdf',
        filename,
        body: await renderPdf(report, { compress: options.compressPdf ?? false }),
      };
  }
}
