import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../kernel';

/**
 * Where a platform's webhooks may go. The server POSTs to the URL a platform sets and reports the
 * status it got back, so a URL naming an internal address would turn it into a scanner of the
 * operator's network (SSRF, OWASP API7:2023). Only public addresses are allowed: the ranges
 * below are the IANA special-purpose registries (RFC 6890) that are not globally reachable,
 * plus the cloud metadata endpoints. The check runs when the URL is set and again at each
 * delivery, on the addresses DNS gives then, and the connection is pinned to the address that
 * passed (so a name cannot resolve to a public address for the check and a private one for the
 * connection: DNS rebinding).
 */
const BLOCKED_V4: readonly [string, number, string][] = [
  ['0.0.0.0', 8, '"this network" and the unspecified address (RFC 1122)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback (RFC 1122)'],
  ['169.254.0.0', 16, 'link-local (RFC 3927), with the cloud metadata endpoint 169.254.169.254'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0', 24, 'documentation (RFC 5737)'],
  ['192.88.99.0', 24, '6to4 relay anycast (RFC 7526)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation (RFC 5737)'],
  ['203.0.113.0', 24, 'documentation (RFC 5737)'],
  ['224.0.0.0', 4, 'multicast (RFC 5771)'],
  ['240.0.0.0', 4, 'reserved, and the limited broadcast address (RFC 1112, RFC 919)'],
];

const BLOCKED_V6: readonly [string, number, string][] = [
  ['::', 128, 'the unspecified address (RFC 4291)'],
  ['::1', 128, 'loopback (RFC 4291)'],
  // IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4
  // address, which is checked as such (embeddedIpv4); the IPv4-compatible form is deprecated.
  ['::', 96, 'IPv4-compatible (deprecated, RFC 4291)'],
  ['64:ff9b:1::', 48, 'local-use IPv4/IPv6 translation (RFC 8215)'],
  ['100::', 64, 'discard-only (RFC 6666)'],
  ['2001::', 23, 'IETF protocol assignments, with Teredo (RFC 2928, RFC 4380)'],
  ['2001:db8::', 32, 'documentation (RFC 3849)'],
  ['3fff::', 20, 'documentation (RFC 9637)'],
  ['fc00::', 7, 'unique local (RFC 4193), with the cloud metadata endpoint fd00:ec2::254'],
  ['fe80::', 10, 'link-local (RFC 4291)'],
  ['fec0::', 10, 'site-local (deprecated, RFC 3879)'],
  ['ff00::', 8, 'multicast (RFC 4291)'],
];

const blockedV4 = new BlockList();
for (const [network, prefix] of BLOCKED_V4) blockedV4.addSubnet(network, prefix, 'ipv4');
const blockedV6 = new BlockList();
for (const [network, prefix] of BLOCKED_V6) blockedV6.addSubnet(network, prefix, 'ipv6');

/** The 16 bytes of an IPv6 address (any textual form, including a dotted IPv4 tail). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    text = text.slice(0, dotted.index) + hex;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
          ...tailGroups,
        ];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/** The IPv4 address an IPv6 address carries (mapped, NAT64 or 6to4), if any. */
function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12);
  // 64:ff9b::a.b.c.d (RFC 6052)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) {
    return v4(12);
  }
  // 2002:aabb:ccdd::/48 (RFC 3056)
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return null;
}

/**
 * True when `address` (an IP literal, IPv6 without brackets) is globally reachable: not in any
 * blocked range, nor an IPv6 form of a blocked IPv4 address. Anything that is not an IP is false.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blockedV4.check(address, 'ipv4');
  if (family !== 6) return false;
  const inner = embeddedIpv4(address);
  if (inner !== null) return isPublicAddress(inner);
  return !blockedV6.check(address, 'ipv6');
}

/** Resolves a host name to all its addresses (the system resolver, as a connection would). */
export type HostResolver = (
  host: string,
) => Promise<readonly { address: string; family: number }[]>;

const RESOLVE_TIMEOUT_MS = 5_000;

export const systemResolver: HostResolver = async (host) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('DNS lookup timed out')), RESOLVE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** A URL that passed the check, with the address its connection must use. */
export interface WebhookTarget {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

export interface WebhookTargetPolicy {
  /**
   * Plain http is allowed on regtest only (simnet is regtest): its coins are worthless and a
   * developer's test receiver seldom has a certificate. Everywhere else a webhook carries
   * payment events and is signed with the platform's secret, so it travels over TLS.
   */
  readonly allowPlainHttp: boolean;
  /**
   * Loopback addresses allowed too (regtest only, `WEBHOOK_ALLOW_LOOPBACK`): a receiver on the
   * same host, for tests and development. Private and metadata addresses stay refused.
   */
  readonly allowLoopback?: boolean;
  readonly resolve: HostResolver;
}

const loopbackV4 = new BlockList();
loopbackV4.addSubnet('127.0.0.0', 8, 'ipv4');

/** Public, or loopback when the policy allows it. */
function isAllowedAddress(address: string, policy: Pick<WebhookTargetPolicy, 'allowLoopback'>) {
  if (isPublicAddress(address)) return true;
  if (!policy.allowLoopback) return false;
  const family = isIP(address);
  return family === 4 ? loopbackV4.check(address, 'ipv4') : address === '::1';
}

/** Why a webhook URL is refused, as the platform sees it: no address, port or DNS answer. */
export const NOT_PUBLIC =
  'must name a publicly reachable host: loopback, private, link-local, carrier-grade NAT, ' +
  'multicast, unspecified and cloud metadata addresses are refused';

function refuse(message: string): AppError {
  return new AppError('VALIDATION_FAILED', `webhookUrl: ${message}`, {
    issues: [{ field: 'webhookUrl', message }],
  });
}

/** The parts of the check that need no DNS: the scheme, and a host that is an IP or localhost. */
function checkUrlShape(
  raw: string,
  policy: Pick<WebhookTargetPolicy, 'allowPlainHttp' | 'allowLoopback'>,
): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('must be an absolute https URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowPlainHttp)) {
    throw refuse(
      policy.allowPlainHttp
        ? 'must be an https URL (or http on regtest)'
        : 'must be an https URL (plain http is allowed on regtest only)',
    );
  }
  const host = hostOf(url);
  // RFC 6761 §6.3: localhost names are loopback whatever a resolver says.
  if ((host === 'localhost' || host.endsWith('.localhost')) && !policy.allowLoopback)
    throw refuse(NOT_PUBLIC);
  if (isIP(host) !== 0 && !isAllowedAddress(host, policy)) throw refuse(NOT_PUBLIC);
  return url;
}

/** The host of a URL as a resolver or isIP takes it: IPv6 without brackets, no trailing dot. */
function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/**
 * The check when a platform sets its webhook URL: the scheme, and every address the host
 * resolves to now. A name that does not resolve yet is accepted (its DNS may be set up after);
 * delivery checks again and sends nothing until it resolves to public addresses only.
 */
export async function checkWebhookUrl(raw: string, policy: WebhookTargetPolicy): Promise<void> {
  const url = checkUrlShape(raw, policy);
  const host = hostOf(url);
  if (isIP(host) !== 0) return;
  let addresses: readonly { address: string }[];
  try {
    addresses = await policy.resolve(host);
  } catch {
    return;
  }
  if (addresses.some((a) => !isAllowedAddress(a.address, policy))) throw refuse(NOT_PUBLIC);
}

/**
 * The check at delivery: the URL's scheme and host, resolved now; every address must be public
 * (the connection could otherwise pick a private one), and the first is the one to connect to.
 * Throws AppError VALIDATION_FAILED when the URL is refused (not retried), and a plain Error
 * when DNS gives no answer (retried later).
 */
export async function resolveWebhookTarget(
  raw: string,
  policy: WebhookTargetPolicy,
): Promise<WebhookTarget> {
  const url = checkUrlShape(raw, policy);
  const host = hostOf(url);
  const literal = isIP(host);
  if (literal !== 0) return { url, address: host, family: literal === 4 ? 4 : 6 };
  const addresses = await policy.resolve(host).catch(() => []);
  const first = addresses[0];
  if (!first) throw new Error('the webhook host does not resolve');
  if (addresses.some((a) => !isAllowedAddress(a.address, policy))) throw refuse(NOT_PUBLIC);
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
