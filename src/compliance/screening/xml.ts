/**
 * Thin, typed access to fast-xml-parser's output. The parser returns untyped trees; these helpers
 * read them as `unknown` and check each step, so a file with an unexpected shape produces an
 * AppError naming the element rather than a TypeError deep in an importer.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError } from '../../kernel';

export type XmlNode = Record<string, unknown>;

export function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse and validate; a malformed document is refused with its line and column. */
export function parseXml(text: string, file: string, arrayTags: ReadonlySet<string>): XmlNode {
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { line, col, msg } = validation.err;
    throw new AppError('LIST_IMPORT_FAILED', `${file} line ${line} column ${col}: ${msg}`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    removeNSPrefix: true,
    processEntities: true,
    isArray: (tagName) => arrayTags.has(tagName),
  });
  const tree: unknown = parser.parse(text);
  if (!isNode(tree)) throw new AppError('LIST_IMPORT_FAILED', `${file}: not an XML document`);
  return tree;
}

/** The child nodes named `key` (always an array; missing → []). Text-only children are dropped. */
export function children(node: XmlNode, key: string): XmlNode[] {
  const value = node[key];
  const list = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  return list.filter(isNode);
}

export function child(node: XmlNode, key: string): XmlNode | undefined {
  return children(node, key)[0];
}

/** Text of an element or attribute (trimmed); '' when absent or empty. */
export function text(node: XmlNode | undefined, key: string): string {
  if (node === undefined) return '';
  const value = node[key];
  const first: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof first === 'string') return first.trim();
  if (typeof first === 'number' || typeof first === 'boolean') return String(first);
  if (isNode(first) && typeof first['#text'] === 'string') return first['#text'].trim();
  return '';
}

/** All texts of repeated elements (e.g. <NATIONALITY><VALUE>…</VALUE><VALUE>…</VALUE>). */
export function texts(node: XmlNode | undefined, key: string): string[] {
  if (node === undefined) return [];
  const value = node[key];
  const list = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === 'string' && item.trim() !== '') out.push(item.trim());
    else if (isNode(item) && typeof item['#text'] === 'string' && item['#text'].trim() !== '') {
      out.push(item['#text'].trim());
    }
  }
  return out;
}
