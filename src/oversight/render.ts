import { stringify } from 'csv-stringify/sync';
// The PDF and XLSX writers load when a report is rendered in that format, not when the server
// starts (pdfkit brings its fonts and their decompressor).
import type { Cell, Row, Sheet } from 'write-excel-file/node';
import { invalid } from '../kernel';
import type { ColumnKind, Report, ReportSection } from './report';
import { fiatExponent } from './report';
import { renderPdf } from './render-pdf';

export { renderPdf };

/**
 * json: the report model. csv: one section (`section` names it) as one flat CSV, one header
 * row. csv-zip: every section as its own CSV (and report.csv with the scheme and period) in one
 * ZIP. xlsx: a workbook with a sheet per section. pdf: the printable report.
 */
export const REPORT_FORMATS = ['json', 'csv', 'csv-zip', 'xlsx', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  readonly contentType: string;
  readonly filename: string;
  readonly body: Buffer;
}

export function reportFilename(report: Report, format: ReportFormat, section?: string): string {
  const base = `${report.kind}-${report.period}`;
  if (format === 'csv-zip') return `${base}-csv.zip`;
  if (format === 'csv' && section) return `${base}-${section}.csv`;
  return `${base}.${format}`;
}

// ------------------------------------------------------------------ CSV (RFC 4180)

/**
 * A leading =, +, - or @ would make a spreadsheet evaluate the cell as a formula (OWASP "CSV
 * injection"); text cells that start so are prefixed with an apostrophe. Numbers are left alone
 * so that negative nets stay numbers.
 */
function defused(value: string): string {
  return /^[=+\-@]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
}

/**
 * RFC 4180 through csv-stringify: CRLF between records, a field with a comma, a quote or any
 * line break quoted (csv-stringify quotes only the record delimiter itself unless told), quotes
 * doubled.
 */
function csv(rows: readonly (readonly string[])[]): string {
  return stringify(
    rows.map((row) => row.map(defused)),
    { record_delimiter: 'windows', quoted_match: /[\r\n]/ },
  );
}

/** One section as a CSV file: a header row of column keys, then its rows (RFC 4180, CRLF). */
export function renderSectionCsv(section: ReportSection): string {
  const keys = section.columns.map((c) => c.key);
  return csv([keys, ...section.rows.map((row) => keys.map((key) => row[key] ?? ''))]);
}

/** The report's identity as a CSV of `field,value` rows: title, scheme, period and times. */
export function renderReportInfoCsv(report: Report): string {
  return csv([
    ['field', 'value'],
    ['title', report.title],
    ['kind', report.kind],
    ['scheme', report.scheme],
    ['period', report.period],
    ['from', report.from],
    ['to', report.to],
    ['generatedAt', report.generatedAt],
    ['sections', report.sections.map((s) => s.id).join(' ')],
  ]);
}

/** The section `id` names, or VALIDATION_FAILED naming `field` and the sections there are. */
export function sectionOf(report: Report, id: string | undefined, field: string): ReportSection {
  const ids = report.sections.map((s) => s.id);
  const section = report.sections.find((s) => s.id === id);
  if (section) return section;
  const message =
    id === undefined
      ? `is required with format csv (one CSV per section); one of ${ids.join(', ')}, or format csv-zip for all`
      : `must be one of ${ids.join(', ')}, got "${id}"`;
  throw invalid(field, message);
}

/**
 * Every section as its own CSV in one ZIP (each file with one header row, so any spreadsheet or
 * CSV reader opens it as is), with report.csv naming the scheme, period and generation time.
 */
export async function renderCsvZip(report: Report): Promise<Buffer> {
  const { zipSync, strToU8 } = await import('fflate');
  // Fixed file times (the generation time): the same report gives the same bytes.
  const mtime = new Date(report.generatedAt);
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {
    'report.csv': [strToU8(renderReportInfoCsv(report)), { mtime }],
  };
  for (const section of report.sections) {
    files[`${section.id}.csv`] = [strToU8(renderSectionCsv(section)), { mtime }];
  }
  return Buffer.from(zipSync(files, { level: 6 }));
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

// ------------------------------------------------------------------ dispatch

export async function renderReport(
  report: Report,
  format: ReportFormat,
  options: { compressPdf?: boolean; section?: string | undefined; sectionField?: string } = {},
): Promise<RenderedReport> {
  const filename = reportFilename(report, format, options.section);
  switch (format) {
    case 'json':
      return {
        contentType: 'application/json; charset=utf-8',
        filename,
        body: Buffer.from(JSON.stringify(report, null, 2)),
      };
    case 'csv': {
      const section = sectionOf(report, options.section, options.sectionField ?? 'section');
      return {
        contentType: 'text/csv; charset=utf-8',
        filename,
        body: Buffer.from(renderSectionCsv(section)),
      };
    }
    case 'csv-zip':
      return { contentType: 'application/zip', filename, body: await renderCsvZip(report) };
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
