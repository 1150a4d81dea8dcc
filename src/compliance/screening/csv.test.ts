import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from './csv';

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted commas, doubled quotes and line breaks, numbering each record by its first line', () => {
    const text =
      '1,"ACME, Inc.",-0-\r\n' + '\r\n' + '2,"said ""hi""","two\r\nlines"\r\n' + '3,plain,last\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['1', 'ACME, Inc.', '-0-'] },
      { line: 3, fields: ['2', 'said "hi"', 'two\r\nlines'] },
      { line: 5, fields: ['3', 'plain', 'last'] },
    ]);
  });

  it.each([
    ['a quote inside an unquoted field', '1,a\n2,b"c\n'],
    ['text after a closing quote', '1,a\n2,"b"c\n'],
    ['a quote never closed', '1,a\n2,"b\n'],
  ])('refuses %s, naming its line', (_what, text) => {
    let thrown: unknown;
    try {
      parseCsv(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CsvSyntaxError);
    expect((thrown as CsvSyntaxError).line).toBe(2);
  });
});
