// The SSRF guard: a destination URL is chosen by whoever configures it, and the service must not
// become their way into its own host, its private network or the cloud metadata endpoint.
// Two checks: checkUrl when a URL is accepted and before each send (IP literals, localhost), and
// guardedLookup at connect time (names, after DNS: the answer may change between the two).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** DELIVERY_ALLOW_PRIVATE_NETWORKS, parsed: networks reachable even inside a blocked range. */
export interface AllowedNetworks {
  readonly list: BlockList;
  /** The entries as written, for logs and error messages. */
  readonly entries: readonly string[];
}

type Family = 'ipv4' | 'ipv6';

/** What is refused unless allowed, and why. */
const BLOCKED_RANGES: readonly (readonly [reason: string, networks: readonly string[]])[] = [
  ['a "this network" address', ['0.0.0.0/8']],
  ['a loopback address', ['127.0.0.0/8']],
  ['a private address', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']],
  ['a shared (CGNAT) address', ['100.64.0.0/10']],
  ['a link-local address (this includes cloud metadata endpoints)', ['169.254.0.0/16']],
  ['a multicast address', ['224.0.0.0/4']],
  ['the broadcast address', ['255.255.255.255/32']],
  ['a reserved address', ['240.0.0.0/4']],
  ['the unspecified address', ['::/128']],
  ['a loopback address', ['::1/128']],
  ['a unique-local address', ['fc00::/7']],
  ['a link-local address', ['fe80::/10']],
  ['a multicast address', ['ff00::/8']],
];

/** One BlockList per reason, so a refusal can say which range it hit. */
const BLOCKED = BLOCKED_RANGES.map(([reason, networks]) => {
  const list = new BlockList();
  for (const network of networks) {
    const [address, prefix] = network.split('/') as [string, string];
    list.addSubnet(address, Number(prefix), isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
  return { reason, list };
});

/** Parses DELIVERY_ALLOW_PRIVATE_NETWORKS: comma-separated CIDRs or bare addresses, v4 or v6. */
export function parseAllowedNetworks(raw: string | undefined): AllowedNetworks {
  const list = new BlockList();
  const entries: string[] = [];
  for (const item of (raw ?? '').split(',')) {
    const entry = item.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const version = isIP(address);
    // A zone (fe80::1%eth0) names an interface of this host, which an allow list cannot mean.
    if (version === 0 || address.includes('%')) {
      throw new Error(`DELIVERY_ALLOW_PRIVATE_NETWORKS: "${entry}" is not an IP address or CIDR`);
    }
    const family: Family = version === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      list.addAddress(address, family);
    } else {
      const prefix = entry.slice(slash + 1);
      const max = version === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
        throw new Error(`DELIVERY_ALLOW_PRIVATE_NETWORKS: "${entry}" has a prefix length outside 0..${max}`);
      }
      list.addSubnet(address, Number(prefix), family);
    }
    entries.push(entry);
  }
  return { list, entries };
}

/** The eight 16-bit groups of a valid IPv6 address (zone already removed). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The IPv4 address an IPv6 one carries, for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible
 * (::a.b.c.d) forms: a socket to either reaches the IPv4 host, so the IPv4 ranges apply.
 */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  const high = groups.slice(0, 5).every((group) => group === 0);
  const mapped = high && groups[5] === 0xffff;
  const compatible = high && groups[5] === 0 && (groups[6] !== 0 || (groups[7] as number) > 1); // not :: or ::1
  if (!mapped && !compatible) return undefined;
  const [g6, g7] = [groups[6] as number, groups[7] as number];
  return `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
}

/** Why `address` (an IP) may not be reached, or undefined when it may. */
export function blockedReason(address: string, allowed: AllowedNetworks): string | undefined {
  const plain = address.split('%')[0] as string; // a zone (fe80::1%eth0) names an interface, not another address
  const version = isIP(plain);
  if (version === 0) return `${address} is not an IP address`;
  const ipv4 = version === 4 ? plain : embeddedIpv4(plain);
  if (allowed.list.check(plain, version === 4 ? 'ipv4' : 'ipv6')) return undefined;
  if (ipv4 !== undefined && allowed.list.check(ipv4, 'ipv4')) return undefined;
  const [candidate, family]: [string, Family] = ipv4 !== undefined ? [ipv4, 'ipv4'] : [plain, 'ipv6'];
  const hit = BLOCKED.find(({ list }) => list.check(candidate, family));
  if (hit === undefined) return undefined;
  return candidate === plain ? `${address} is ${hit.reason}` : `${address} is ${hit.reason} (IPv4 ${candidate})`;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Whether a destination URL may be used, judged on the URL alone (names are judged at connect time). */
export function checkUrl(url: string, allowed: AllowedNetworks): UrlCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: `the scheme must be https or http, not ${parsed.protocol.slice(0, -1)}` };
  }
  // Credentials would be sent as Basic auth on every attempt and shown wherever the URL is.
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'the URL must not contain credentials' };
  // The URL parser has already turned 2130706433, 0x7f.1 and 127.1 into 127.0.0.1.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { ok: false, reason: 'the URL has no host' };
  if (isIP(host) !== 0) {
    const reason = blockedReason(host, allowed);
    return reason === undefined ? { ok: true, url: parsed } : { ok: false, reason };
  }
  // localhost never goes to DNS (RFC 6761), so it is known to be loopback without resolving it.
  const name = host.replace(/\.$/, '');
  if ((name === 'localhost' || name.endsWith('.localhost')) && blockedReason('127.0.0.1', allowed) !== undefined) {
    return { ok: false, reason: `${host} is a loopback name` };
  }
  return { ok: true, url: parsed };
}

/** dns.lookup with `all: true`, as guardedLookup calls it; replaceable in tests. */
export type ResolveAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for net.connect / http(s).request that refuses a name when any of its addresses is
 * blocked (any, not the first: the socket may try them all). net.connect does not call lookup
 * for an IP literal host, so literals must be checked with checkUrl (or blockedReason) before.
 */
export function guardedLookup(allowed: AllowedNetworks, resolve: ResolveAll = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '', undefined);
      for (const { address } of addresses) {
        const reason = blockedReason(address, allowed);
        if (reason !== undefined) {
          const blocked: NodeJS.ErrnoException = new Error(`Destination ${hostname} resolves to ${address}: ${reason}`);
          blocked.code = 'ERR_DESTINATION_BLOCKED';
          return callback(blocked, options.all ? [] : '', undefined);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (first === undefined) {
        const none: NodeJS.ErrnoException = new Error(`Destination ${hostname} resolves to no address`);
        none.code = 'ENOTFOUND';
        return callback(none, '', undefined);
      }
      callback(null, first.address, first.family);
    });
  };
}
