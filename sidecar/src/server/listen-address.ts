/** Parsing of listen addresses: `host:port`, `[v6]:port` or `unix:/path`. */

/** A parsed listen address. */
export type ListenAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

/** Parses `127.0.0.1:50051`, `[::1]:8080`, `localhost:0` or `unix:/run/rolecall.sock`; throws naming the bad part. */
export function parseListenAddress(text: string, what: string): ListenAddress {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") throw new Error(`${what}: 'unix:' needs a socket path, e.g. unix:/run/rolecall.sock`);
    return { kind: "unix", path };
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) throw new Error(`${what}: '${text}' is not HOST:PORT, [IPV6]:PORT or unix:/PATH`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`${what}: port ${port} is out of range (0-65535)`);
  return { kind: "tcp", host: (match[1] ?? match[2])!, port };
}

/** Formats a TCP address for URLs and logs, bracketing IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
