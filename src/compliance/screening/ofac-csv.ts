/**
 * OFAC SDN list, legacy CSV format (sdn.csv, add.csv, alt.csv), as specified in OFAC's
 * "SDN List Data Specification" (dat_spec.txt): no header row, `-0-` for an empty field.
 *
 *   sdn.csv  ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
 *            Vess_flag, Vess_owner, Remarks
 *   add.csv  ent_num, Add_num, Address, City/State/Province/Postal Code, Country, Add_remarks
 *   alt.csv  ent_num, alt_num, alt_type, alt_name, alt_remarks
 *
 * The legacy format has no field for digital-currency addresses: OFAC puts them in the remarks,
 * as `Digital Currency Address - XBT 1ABC…;` (also ETH, XMR, LTC, ZEC, DASH, BTG, ETC, BSV,
 * USDT, XVG, …). "Weak" AKAs are also only in the remarks, as `a.k.a. 'NAME'`; the strong ones
 * are in alt.csv.
 */
import { AppError } from '../../kernel';
import { decodeText, multiFileHash } from './bytes';
import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv';
import {
  countEntries,
  type EntryKind,
  type ImportOptions,
  type ListAlias,
  type ListEntry,
  type ListSnapshot,
} from './types';

export interface OfacSdnFiles {
  sdn: Uint8Array;
  add: Uint8Array;
  alt: Uint8Array;
}

const EMPTY = '-0-';

function clean(value: string | undefined): string {
  const trimmed = (value ?? '').trim();
  return trimmed === EMPTY ? '' : trimmed;
}

function readRecords(bytes: Uint8Array, file: string, width: number): CsvRecord[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(decodeText(bytes, file));
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new AppError('LIST_IMPORT_FAILED', `${file} line ${error.line}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  for (const record of records) {
    if (record.fields.length !== width) {
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `${file} line ${record.line}: expected ${width} fields, got ${record.fields.length}`,
      );
    }
    const entNum = clean(record.fields[0]);
    if (!/^\d+$/.test(entNum)) {
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `${file} line ${record.line}: ent_num must be a positive integer, got "${entNum}"`,
      );
    }
  }
  return records;
}

function kindOf(sdnType: string, file: string, line: number): EntryKind {
  switch (sdnType.toLowerCase()) {
    case '':
      return 'organization'; // OFAC leaves SDN_Type empty for entities
    case 'individual':
      return 'person';
    case 'vessel':
      return 'vessel';
    case 'aircraft':
      return 'aircraft';
    default:
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `${file} line ${line}: SDN_Type must be individual, vessel, aircraft or -0-, got "${sdnType}"`,
      );
  }
}

const DIGITAL_CURRENCY = /Digital Currency Address - ([A-Za-z0-9]+)\s+([^\s;]+)/g;
const WEAK_AKA = /a\.k\.a\. '(.+?)'(?=[;.,]|$)/g;
const DOB = /\bDOB ([^;]+)/;
const NATIONALITY = /\b(?:nationality|citizen) ([^;]+)/g;

/** Every digital-currency address in an SDN remarks field, with the asset ticker OFAC gives. */
export function extractDigitalCurrencyAddresses(
  remarks: string,
): Array<{ asset: string; address: string }> {
  const found: Array<{ asset: string; address: string }> = [];
  for (const match of remarks.matchAll(DIGITAL_CURRENCY)) {
    const asset = (match[1] ?? '').toUpperCase();
    // A remark's last item ends with "." rather than ";"; no address format contains a dot.
    const address = (match[2] ?? '').replace(/\.+$/, '');
    if (address !== '') found.push({ asset, address });
  }
  return found;
}

function pushUnique(list: string[], value: string): void {
  const v = value.trim().replace(/\.$/, '');
  if (v !== '' && !list.includes(v)) list.push(v);
}

export function importOfacSdnCsv(files: OfacSdnFiles, options: ImportOptions = {}): ListSnapshot {
  const sdnRecords = readRecords(files.sdn, 'sdn.csv', 12);
  const addRecords = readRecords(files.add, 'add.csv', 6);
  const altRecords = readRecords(files.alt, 'alt.csv', 5);
  if (sdnRecords.length === 0) {
    throw new AppError('LIST_IMPORT_FAILED', 'sdn.csv: the file has no records');
  }
  const total = sdnRecords.length + addRecords.length + altRecords.length;
  let done = 0;
  const tick = (): void => {
    done++;
    if (options.onProgress && (done % 1000 === 0 || done === total))
      options.onProgress(done, total);
  };

  const byId = new Map<string, ListEntry>();
  const entries: ListEntry[] = [];
  for (const { line, fields } of sdnRecords) {
    const listEntryId = clean(fields[0]);
    const primaryName = clean(fields[1]);
    if (primaryName === '') {
      throw new AppError('LIST_IMPORT_FAILED', `sdn.csv line ${line}: SDN_Name is empty`);
    }
    if (byId.has(listEntryId)) {
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `sdn.csv line ${line}: ent_num ${listEntryId} appears twice`,
      );
    }
    const remarks = clean(fields[11]);
    const programs = clean(fields[3])
      .split(/\]\s*\[/)
      .map((p) => p.replace(/[[\]]/g, '').trim())
      .filter((p) => p !== '');
    const aliases: ListAlias[] = [];
    for (const match of remarks.matchAll(WEAK_AKA)) {
      const name = (match[1] ?? '').trim();
      if (name !== '') aliases.push({ name, quality: 'weak aka', strength: 'weak' });
    }
    const countries: string[] = [];
    for (const match of remarks.matchAll(NATIONALITY)) pushUnique(countries, match[1] ?? '');
    const vesselFlag = clean(fields[9]);
    if (vesselFlag !== '') pushUnique(countries, vesselFlag);
    const entry: ListEntry = {
      listEntryId,
      kind: kindOf(clean(fields[2]), 'sdn.csv', line),
      primaryName,
      aliases,
      countries,
      programs,
      addresses: extractDigitalCurrencyAddresses(remarks),
    };
    const dob = DOB.exec(remarks)?.[1]?.trim();
    if (dob !== undefined && dob !== '') entry.dateOfBirth = dob;
    byId.set(listEntryId, entry);
    entries.push(entry);
    tick();
  }

  for (const { line, fields } of altRecords) {
    const entry = byId.get(clean(fields[0]));
    if (entry === undefined) {
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `alt.csv line ${line}: ent_num ${clean(fields[0])} is not in sdn.csv`,
      );
    }
    const name = clean(fields[3]);
    if (name !== '') {
      entry.aliases.push({ name, quality: clean(fields[2]) || 'aka', strength: 'strong' });
    }
    tick();
  }

  for (const { line, fields } of addRecords) {
    const entry = byId.get(clean(fields[0]));
    if (entry === undefined) {
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `add.csv line ${line}: ent_num ${clean(fields[0])} is not in sdn.csv`,
      );
    }
    const country = clean(fields[4]);
    if (country !== '') pushUnique(entry.countries, country);
    tick();
  }

  return {
    source: 'ofac-sdn',
    // The legacy CSV files carry no publication date (it is only in the XML formats).
    publicationDate: null,
    contentHash: multiFileHash([
      ['sdn.csv', files.sdn],
      ['add.csv', files.add],
      ['alt.csv', files.alt],
    ]),
    counts: countEntries(entries),
    entries,
  };
}
