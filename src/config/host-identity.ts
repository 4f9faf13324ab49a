/**
 * Which machine a host entry reaches, as far as its spelling tells without
 * asking DNS: two entries with the same identity are the same SSH host, so
 * a host group naming an environment's host in another spelling is still
 * that environment's host. Spellings that differ only in case, a trailing
 * dot (the root of DNS), brackets, the user (`deploy@`), an explicit port 22,
 * IPv4 written in IPv6 (`::ffff:10.0.1.11`) or in the short and octal forms
 * ssh accepts (`127.1`, `012.0.1.11`) are one host. Every loopback address
 * and `localhost` are taken as one machine, this one: ssh reaches the same
 * sshd through any of them, and through the unspecified address (`0.0.0.0`,
 * `0`, `::`), which the kernel takes for this machine. Names that only DNS can tell apart (an alias
 * and its address) are not resolved here, on every push.
 */

/** The identity of loopback, whichever of its addresses or names is written. */
const LOOPBACK = 'loopback';

/** `address:port`, with the address in its one canonical form. */
export function hostIdentity(address: string, port: number | undefined): string {
  return `${canonicalAddress(address)}:${port ?? 22}`;
}

export function canonicalAddress(address: string): string {
  const plain = address
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '');
  if (plain === 'localhost' || plain.endsWith('.localhost')) return LOOPBACK;
  const ip = canonicalIp(plain);
  if (ip === undefined) return plain;
  // Connecting to the unspecified address (`0.0.0.0`, `0`, `::`) reaches this machine too, as loopback does.
  return ip === '::1' || ip === '::' || ip === '0.0.0.0' || ip.startsWith('127.') ? LOOPBACK : ip;
}

/**
 * The WHATWG URL parser's canonical form of an IP address (as inet_aton and inet_pton read it), or undefined for a
 * name.
 */
function canonicalIp(text: string): string | undefined {
  if (text.includes(':')) {
    let host: string;
    try {
      host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (!mapped) return host;
    const high = Number.parseInt(mapped[1] ?? '0', 16);
    const low = Number.parseInt(mapped[2] ?? '0', 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  // Only a name whose last label is a number is an IPv4 address to the parser (and to ssh).
  if (!/^[0-9a-fx.]+$/.test(text) || !/(^|\.)(0x[0-9a-f]*|[0-9]+)$/.test(text)) return undefined;
  try {
    return new URL(`http://${text}/`).hostname;
  } catch {
    return undefined;
  }
}
