import { cryptoRandom, type Random } from './random';
import { invalid } from './errors';

/**
 * Prefixed, branded ids: the prefix names the entity (`ctr_…` for a contract), the rest is a
 * ULID-style time-ordered, Crockford base32 string, so ids sort by creation time.
 */
export const ID_PREFIXES = {
  participant: 'par',
  licence: 'lic',
  apiKey: 'key',
  user: 'usr',
  session: 'ses',
  auditEvent: 'aud',
  wallet: 'wal',
  address: 'adr',
  site: 'sit',
  ban: 'ban',
  attribution: 'att',
  lot: 'lot',
  settlementWindow: 'swn',
  obligation: 'obl',
  netPosition: 'npo',
  payIn: 'pin',
  payInRefusal: 'prf',
  payOut: 'pot',
  settlementAddress: 'sad',
  contract: 'ctr',
  invoice: 'inv',
  payout: 'pay',
  batch: 'bat',
  settlement: 'stl',
  rate: 'rat',
  fixing: 'fix',
  ledgerTransaction: 'ltx',
  webhook: 'whk',
  delivery: 'dlv',
  listSnapshot: 'lst',
  screening: 'scr',
  decision: 'dec',
  alert: 'alr',
  case: 'cas',
  clearance: 'clr',
  travelRule: 'trv',
  request: 'req',
  vasp: 'vsp',
  offer: 'ofr',
  bid: 'bid',
  deal: 'del',
  bankConfirmation: 'bkc',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newId<K extends IdKind>(
  kind: K,
  now: Date = new Date(),
  random: Random = cryptoRandom,
): string {
  let time = now.getTime();
  let timePart = '';
  for (let i = 0; i < 10; i++) {
    timePart = CROCKFORD[time % 32] + timePart;
    time = Math.floor(time / 32);
  }
  const bytes = random.bytes(16);
  let randomPart = '';
  for (let i = 0; i < 16; i++) randomPart += CROCKFORD[(bytes[i] ?? 0) % 32];
  return `${ID_PREFIXES[kind]}_${timePart}${randomPart}`;
}

const ID_BODY = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Checks that `value` is an id of the given kind; throws VALIDATION_FAILED naming `field`. */
export function parseId<K extends IdKind>(kind: K, value: string, field = 'id'): string {
  const prefix = ID_PREFIXES[kind];
  if (!value.startsWith(`${prefix}_`) || !ID_BODY.test(value.slice(prefix.length + 1))) {
    throw invalid(field, `must be a ${kind} id like "${prefix}_01J…", got "${value}"`);
  }
  return value;
}

export function isId<K extends IdKind>(kind: K, value: string): boolean {
  const prefix = ID_PREFIXES[kind];
  return value.startsWith(`${prefix}_`) && ID_BODY.test(value.slice(prefix.length + 1));
}
