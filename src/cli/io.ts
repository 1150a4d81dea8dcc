/** Where commands write, so tests can capture it. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** JSON as the commands print it: indented, bigints as decimal strings (they exceed 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** One column of a printed table: its heading, how a row shows in it, and its alignment. */
export interface TableColumn<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Numbers and amounts are right-aligned so their digits line up. */
  readonly align?: 'left' | 'right';
}

/**
 * A table for a person: a header row, a rule under it, then the rows, columns padded to their
 * widest cell and two spaces apart. Written here rather than taken from a table library: the
 * output is plain text (no box drawing, so it pastes and greps well) and this is all it needs.
 * Widths count UTF-16 code units, which is right for the Latin, Cyrillic and Greek names the
 * registry holds; wide (CJK) characters would misalign by a column.
 */
export function formatTable<T>(rows: readonly T[], columns: readonly TableColumn<T>[]): string[] {
  const cells = rows.map((row) => columns.map((c) => c.value(row).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) =>
        columns[i]?.align === 'right' ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
  ];
}

/** Prints `rows` as JSON, or as a headed table (`empty` when there are none). */
export function printTable<T>(
  io: Pick<CliIo, 'stdout'>,
  rows: readonly T[],
  columns: readonly TableColumn<T>[],
  options: { json: boolean; empty: string; jsonValue?: unknown },
): void {
  if (options.json) {
    io.stdout(toJson(options.jsonValue ?? rows));
    return;
  }
  if (rows.length === 0) {
    io.stdout(options.empty);
    return;
  }
  for (const line of formatTable(rows, columns)) io.stdout(line);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

function scalar(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return toJson(v).replace(/\s+/g, ' ');
}

/**
 * `key  value` lines for a person, nested values as rows under their key (never JSON): an object
 * as indented `key  value` lines, a list of objects as an indented headed table, a list of plain
 * values joined with commas.
 */
export function resultLines(value: Record<string, unknown>, indent = ''): string[] {
  const entries = Object.entries(value);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  const out: string[] = [];
  for (const [key, v] of entries) {
    if (isPlainObject(v)) {
      out.push(`${indent}${key}`);
      out.push(...(Object.keys(v).length > 0 ? resultLines(v, `${indent}  `) : [`${indent}  -`]));
    } else if (Array.isArray(v) && v.some(isPlainObject)) {
      out.push(`${indent}${key}`);
      const rows = v.filter(isPlainObject);
      const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const columns = keys.map((k) => ({
        header: k,
        value: (r: Record<string, unknown>) => scalar(r[k]),
        align: rows.every((r) => typeof r[k] === 'number' || typeof r[k] === 'bigint')
          ? ('right' as const)
          : ('left' as const),
      }));
      out.push(...formatTable(rows, columns).map((line) => `${indent}  ${line}`));
    } else if (Array.isArray(v)) {
      out.push(`${indent}${key.padEnd(width)}  ${v.length > 0 ? v.map(scalar).join(', ') : '-'}`);
    } else {
      out.push(`${indent}${key.padEnd(width)}  ${scalar(v)}`);
    }
  }
  return out;
}

/** Prints `value` as JSON (bigints as strings) or as aligned `key  value` lines (see resultLines). */
export function printResult(io: CliIo, value: Record<string, unknown>, json: boolean): void {
  if (json) {
    io.stdout(toJson(value));
    return;
  }
  for (const line of resultLines(value)) io.stdout(line);
}
