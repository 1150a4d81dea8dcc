/** Where commands write, so tests can capture it. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Prints `value` as JSON (bigints as strings) or as aligned `key: value` lines. */
export function printResult(io: CliIo, value: Record<string, unknown>, json: boolean): void {
  if (json) {
    io.stdout(
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2),
    );
    return;
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [key, v] of Object.entries(value)) {
    const shown =
      v instanceof Date
        ? v.toISOString()
        : typeof v === 'object' && v !== null
          ? JSON.stringify(v)
          : String(v);
    io.stdout(`${key.padEnd(width)}  ${shown}`);
  }
}
