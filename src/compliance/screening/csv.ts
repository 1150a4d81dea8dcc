/**
 * A small RFC 4180 CSV reader: fields separated by commas, records by CRLF (a bare LF is accepted
 * too), fields optionally enclosed in double quotes, a double quote inside a quoted field written
 * twice. Quoted fields may contain commas and line breaks (OFAC's remarks do contain commas).
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
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = text.length;
  let atFieldStart = true;

  const endRecord = (): void => {
    fields.push(field);
    // A blank line is not a record.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    atFieldStart = true;
  };

  while (i < n) {
    const ch = text.charCodeAt(i);
    if (atFieldStart && ch === 0x22 /* " */) {
      // Quoted field: read up to the closing quote.
      i++;
      const startLine = line;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) throw new CsvSyntaxError(startLine, 'a quoted field is never closed');
        const chunk = text.slice(i, close);
        field += chunk;
        for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
        if (text.charCodeAt(close + 1) === 0x22) {
          field += '"';
          i = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      // After the closing quote only a separator, a line break or the end may follow.
      const next = text.charCodeAt(i);
      if (i < n && next !== 0x2c && next !== 0x0d && next !== 0x0a) {
        throw new CsvSyntaxError(line, `unexpected character "${text[i]}" after a closing quote`);
      }
      atFieldStart = false;
      continue;
    }
    atFieldStart = false;
    if (ch === 0x2c /* , */) {
      fields.push(field);
      field = '';
      atFieldStart = true;
      i++;
    } else if (ch === 0x0d || ch === 0x0a) {
      endRecord();
      i += ch === 0x0d && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      line++;
      recordLine = line;
    } else if (ch === 0x22) {
      throw new CsvSyntaxError(line, 'a double quote inside an unquoted field');
    } else {
      // Plain run of characters up to the next separator, line break or quote.
      let end = i + 1;
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === 0x2c || c === 0x0d || c === 0x0a || c === 0x22) break;
        end++;
      }
      field += text.slice(i, end);
      i = end;
    }
  }
  if (!atFieldStart || field !== '' || fields.length > 0) endRecord();
  return records;
}
