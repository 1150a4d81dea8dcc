/**
 * EU Financial Sanctions Files (FSF) XML, namespace http://eu.europa.ec/fpi/fsd/export:
 * export/sanctionEntity with subjectType (person | enterprise), nameAlias (wholeName,
 * nameLanguage, strong), birthdate, citizenship, address, regulation (programme).
 * The first strong nameAlias without a language is taken as the primary name; the others are
 * aliases (the EU lists each official-language spelling as an alias).
 */
import { AppError } from '../../kernel';
import { decodeText, sha256Hex } from './bytes';
import { detectScript } from './script';
import {
  countEntries,
  type EntryKind,
  type ImportOptions,
  type ListAlias,
  type ListEntry,
  type ListSnapshot,
} from './types';
import { child, children, parseXml, text, type XmlNode } from './xml';

const FILE = 'EU FSF file';

const ARRAY_TAGS = new Set([
  'sanctionEntity',
  'nameAlias',
  'birthdate',
  'citizenship',
  'address',
  'regulation',
]);

function kindOf(code: string, position: string): EntryKind {
  switch (code) {
    case 'person':
      return 'person';
    case 'enterprise':
      return 'organization';
    default:
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `${FILE}: ${position} subjectType code must be person or enterprise, got "${code}"`,
      );
  }
}

function readEntry(node: XmlNode, position: string): ListEntry {
  const listEntryId = text(node, 'logicalId');
  if (listEntryId === '')
    throw new AppError('LIST_IMPORT_FAILED', `${FILE}: ${position} has no logicalId`);
  const kind = kindOf(
    text(child(node, 'subjectType'), 'code'),
    `${position} (logicalId ${listEntryId})`,
  );
  const names = children(node, 'nameAlias')
    .map((alias) => {
      const whole = text(alias, 'wholeName');
      const parts = ['firstName', 'middleName', 'lastName']
        .map((k) => text(alias, k))
        .filter((p) => p !== '');
      return {
        name: whole !== '' ? whole : parts.join(' '),
        strong: text(alias, 'strong') !== 'false',
        language: text(alias, 'nameLanguage'),
      };
    })
    .filter((n) => n.name !== '');
  const primaryIndex = Math.max(
    0,
    names.findIndex((n) => n.strong && n.language === ''),
  );
  const primary = names[primaryIndex];
  if (primary === undefined) {
    throw new AppError(
      'LIST_IMPORT_FAILED',
      `${FILE}: ${position} (logicalId ${listEntryId}) has no nameAlias`,
    );
  }
  const aliases: ListAlias[] = names
    .filter((_, i) => i !== primaryIndex)
    .map((n) => {
      const alias: ListAlias = {
        name: n.name,
        quality: n.strong ? 'strong' : 'weak',
        strength: n.strong ? 'strong' : 'weak',
      };
      const script = detectScript(n.name);
      if (script !== undefined) alias.script = script;
      if (n.language !== '') alias.language = n.language;
      return alias;
    });
  const countries: string[] = [];
  const addCountry = (iso2: string): void => {
    // "00" is the FSF's code for an unknown country.
    if (iso2 !== '' && iso2 !== '00' && !countries.includes(iso2)) countries.push(iso2);
  };
  for (const tag of ['birthdate', 'citizenship', 'address']) {
    for (const item of children(node, tag)) addCountry(text(item, 'countryIso2Code'));
  }
  const programs: string[] = [];
  for (const regulation of children(node, 'regulation')) {
    const programme = text(regulation, 'programme');
    if (programme !== '' && !programs.includes(programme)) programs.push(programme);
  }
  const entry: ListEntry = {
    listEntryId,
    kind,
    primaryName: primary.name,
    aliases,
    countries,
    programs,
    addresses: [],
  };
  const birth = children(node, 'birthdate')[0];
  const dob = birth === undefined ? '' : text(birth, 'birthdate') || text(birth, 'year');
  if (dob !== '') entry.dateOfBirth = dob;
  return entry;
}

export function importEuFsfXml(bytes: Uint8Array, options: ImportOptions = {}): ListSnapshot {
  const tree = parseXml(decodeText(bytes, FILE), FILE, ARRAY_TAGS);
  const root = child(tree, 'export');
  if (root === undefined)
    throw new AppError('LIST_IMPORT_FAILED', `${FILE}: the root element must be export`);
  const nodes = children(root, 'sanctionEntity');
  if (nodes.length === 0)
    throw new AppError('LIST_IMPORT_FAILED', `${FILE}: no sanctionEntity elements`);
  const entries: ListEntry[] = [];
  nodes.forEach((node, i) => {
    entries.push(readEntry(node, `sanctionEntity #${i + 1}`));
    options.onProgress?.(i + 1, nodes.length);
  });
  const generated = text(root, 'generationDate');
  return {
    source: 'eu-fsf',
    publicationDate: /^\d{4}-\d{2}-\d{2}/.test(generated) ? generated.slice(0, 10) : null,
    contentHash: sha256Hex(bytes),
    counts: countEntries(entries),
    entries,
  };
}
