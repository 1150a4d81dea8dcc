import { CsvError, parse } from 'csv-parse/sync';

/**
 * RFC 4180 CSV through csv-parse: fields separated by commas, records by CRLF (a bare LF is
 * accepted too), fields optionally enclosed in double quotes, a double quote inside a quoted
 * field written twice. Quoted fields may contain commas and line breaks (OFAC's remarks do
 * contain commas). Strict about quotes: a quote inside an unquoted field, anything but a
 * separator or a line break after a closing quote, and a quote never closed are refused.
 *
 * Returns each record with the 1-based line number it starts on, so that an importer can say
 * where a bad record is.
 */

export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseCsv(text: string): CsvRecord[] {
  let rows: string[][];
  try {
    rows = parse(text, {
      relax_column_count: true,
      // Both, whatever the first line ends with (csv-parse would otherwise take the first one's).
      record_delimiter: ['\r\n', '\n'],
    });
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines ?? 1;
      throw new CsvSyntaxError(line, error.message);
    }
    throw error;
  }
  // Each record starts one line after the previous one ends: its delimiter, and the line breaks
  // its quoted fields hold. A blank line is not a record.
  const records: CsvRecord[] = [];
  let line = 1;
  for (const fields of rows) {
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line, fields });
    line += 1 + fields.reduce((sum, field) => sum + (field.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
  }
  return records;
}
