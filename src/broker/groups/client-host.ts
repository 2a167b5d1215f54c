/** Kafka reports a member's host as `/ip` (Java's InetAddress.toString); `remote` is `ip:port`. */
export function clientHost(remote: string): string {
  const i = remote.lastIndexOf(':');
  const ip = i > 0 ? remote.slice(0, i) : remote;
  return `/${ip.startsWith('[') ? ip.slice(1, -1) : ip}`;
}
