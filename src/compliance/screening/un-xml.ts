/**
 * UN Security Council consolidated list, XML (schema sc-sanctions.xsd): CONSOLIDATED_LIST with
 * INDIVIDUALS/INDIVIDUAL and ENTITIES/ENTITY. A name is split over FIRST_NAME … FOURTH_NAME;
 * aliases are INDIVIDUAL_ALIAS / ENTITY_ALIAS with a QUALITY ("Good", "Low", "a.k.a.",
 * "f.k.a."); NAME_ORIGINAL_SCRIPT holds the name in its original script (Arabic, Cyrillic, …),
 * which we keep as an alias so that a query in that script can match.
 */
import { AppError } from '../../kernel';
import { decodeText, sha256Hex } from './bytes';
import { detectScript } from './script';
import {
  countEntries,
  type ImportOptions,
  type ListAlias,
  type ListEntry,
  type ListSnapshot,
} from './types';
import { child, children, parseXml, text, texts, type XmlNode } from './xml';

const FILE = 'UN consolidated list';

const ARRAY_TAGS = new Set([
  'INDIVIDUAL',
  'ENTITY',
  'INDIVIDUAL_ALIAS',
  'ENTITY_ALIAS',
  'INDIVIDUAL_ADDRESS',
  'ENTITY_ADDRESS',
  'INDIVIDUAL_DATE_OF_BIRTH',
  'NATIONALITY',
  'VALUE',
]);

/** UN "Low" quality aliases are the list's own low-trust aliases. */
function strengthOf(quality: string): 'strong' | 'weak' {
  return quality.toLowerCase() === 'low' ? 'weak' : 'strong';
}

function dateOfBirth(node: XmlNode): string | undefined {
  for (const dob of children(node, 'INDIVIDUAL_DATE_OF_BIRTH')) {
    const date = text(dob, 'DATE');
    if (date !== '') return date;
    const year = text(dob, 'YEAR');
    if (year !== '') return year;
    const from = text(dob, 'FROM_YEAR');
    const to = text(dob, 'TO_YEAR');
    if (from !== '' && to !== '') return `${from}/${to}`;
  }
  return undefined;
}

function readEntry(node: XmlNode, kind: 'person' | 'organization', position: string): ListEntry {
  const listEntryId = text(node, 'REFERENCE_NUMBER') || text(node, 'DATAID');
  if (listEntryId === '') {
    throw new AppError(
      'LIST_IMPORT_FAILED',
      `${FILE}: ${position} has no REFERENCE_NUMBER or DATAID`,
    );
  }
  const primaryName = ['FIRST_NAME', 'SECOND_NAME', 'THIRD_NAME', 'FOURTH_NAME']
    .map((key) => text(node, key))
    .filter((part) => part !== '')
    .join(' ');
  if (primaryName === '') {
    throw new AppError(
      'LIST_IMPORT_FAILED',
      `${FILE}: ${position} (${listEntryId}) has no FIRST_NAME`,
    );
  }
  const aliasTag = kind === 'person' ? 'INDIVIDUAL_ALIAS' : 'ENTITY_ALIAS';
  const aliases: ListAlias[] = [];
  for (const alias of children(node, aliasTag)) {
    const name = text(alias, 'ALIAS_NAME');
    if (name === '') continue; // the list writes <ALIAS_NAME/> when there is none
    const quality = text(alias, 'QUALITY');
    const entryAlias: ListAlias = { name, quality, strength: strengthOf(quality) };
    const script = detectScript(name);
    if (script !== undefined) entryAlias.script = script;
    aliases.push(entryAlias);
  }
  const original = text(node, 'NAME_ORIGINAL_SCRIPT');
  if (original !== '') {
    const entryAlias: ListAlias = {
      name: original,
      quality: 'original script',
      strength: 'strong',
    };
    const script = detectScript(original);
    if (script !== undefined) entryAlias.script = script;
    aliases.push(entryAlias);
  }
  const countries: string[] = [];
  const add = (value: string): void => {
    if (value !== '' && !countries.includes(value)) countries.push(value);
  };
  for (const nationality of children(node, 'NATIONALITY')) texts(nationality, 'VALUE').forEach(add);
  const addressTag = kind === 'person' ? 'INDIVIDUAL_ADDRESS' : 'ENTITY_ADDRESS';
  for (const address of children(node, addressTag)) add(text(address, 'COUNTRY'));

  const entry: ListEntry = {
    listEntryId,
    kind,
    primaryName,
    aliases,
    countries,
    programs: [text(node, 'UN_LIST_TYPE')].filter((p) => p !== ''),
    addresses: [],
  };
  const dob = kind === 'person' ? dateOfBirth(node) : undefined;
  if (dob !== undefined) entry.dateOfBirth = dob;
  return entry;
}

export function importUnConsolidatedXml(
  bytes: Uint8Array,
  options: ImportOptions = {},
): ListSnapshot {
  const tree = parseXml(decodeText(bytes, FILE), FILE, ARRAY_TAGS);
  const root = child(tree, 'CONSOLIDATED_LIST');
  if (root === undefined) {
    throw new AppError('LIST_IMPORT_FAILED', `${FILE}: the root element must be CONSOLIDATED_LIST`);
  }
  const individuals = children(child(root, 'INDIVIDUALS') ?? {}, 'INDIVIDUAL');
  const entities = children(child(root, 'ENTITIES') ?? {}, 'ENTITY');
  const total = individuals.length + entities.length;
  if (total === 0) {
    throw new AppError('LIST_IMPORT_FAILED', `${FILE}: no INDIVIDUAL or ENTITY elements`);
  }
  const entries: ListEntry[] = [];
  const seen = new Set<string>();
  const push = (entry: ListEntry): void => {
    if (seen.has(entry.listEntryId)) {
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `${FILE}: REFERENCE_NUMBER ${entry.listEntryId} appears twice`,
      );
    }
    seen.add(entry.listEntryId);
    entries.push(entry);
    if (options.onProgress && (entries.length % 100 === 0 || entries.length === total)) {
      options.onProgress(entries.length, total);
    }
  };
  individuals.forEach((node, i) => push(readEntry(node, 'person', `INDIVIDUAL #${i + 1}`)));
  entities.forEach((node, i) => push(readEntry(node, 'organization', `ENTITY #${i + 1}`)));

  const generated = text(root, 'dateGenerated');
  return {
    source: 'un',
    publicationDate: /^\d{4}-\d{2}-\d{2}/.test(generated) ? generated.slice(0, 10) : null,
    contentHash: sha256Hex(bytes),
    counts: countEntries(entries),
    entries,
  };
}
