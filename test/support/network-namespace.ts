/**
 * A network namespace with its own loopback and a veth pair to the host, to cut one process off
 * the network (a partition) without touching anything else (Linux, as root: `ip netns`). The
 * pair's addresses are a /30 in 10.64.0.0/10 derived from this process's PID, so concurrent runs
 * do not collide; they exist only on the pair. `destroy()` (also run at exit) deletes the
 * namespace by name, which deletes the pair.
 */
import { execFileSync } from "node:child_process";

/** A namespace whose link to the host can be cut and restored. */
export interface NetworkNamespace {
  readonly name: string;
  /** The host's end of the pair, reachable from inside while the link is up. */
  readonly hostAddress: string;
  /** The namespace's end of the pair. */
  readonly innerAddress: string;
  /** Takes the host's end down: packets are dropped, open connections hang (no reset). */
  cut(): void;
  /** Brings it up again. */
  restore(): void;
  /** Deletes the namespace and the pair. Safe to call twice. */
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Whether this process may create network namespaces (root, and `ip netns` works here). */
export function networkNamespacesAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `rcprobe${process.pid}`;
  try {
    ip("netns", "add", probe);
    ip("netns", "del", probe);
    return true;
  } catch {
    return false;
  }
}

/** Creates a namespace with its loopback up and a veth pair to the host, both ends up. */
export function createNetworkNamespace(): NetworkNamespace {
  const id = process.pid;
  const name = `rc${id}`;
  const hostEnd = `rch${id}`;
  const innerEnd = `rcn${id}`;
  // 10.64.0.0/10 holds 2^20 /30s: one per PID modulo that.
  const block = (id % (1 << 20)) * 4;
  const base = [10, 64 + (block >> 16), (block >> 8) & 0xff, block & 0xff];
  const addr = (n: number) => `${base[0]}.${base[1]}.${base[2]}.${base[3]! + n}`;
  const hostAddress = addr(1);
  const innerAddress = addr(2);
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    process.removeListener("exit", destroy);
    try {
      ip("netns", "del", name);
    } catch {
      // Never created, or already gone.
    }
    try {
      ip("link", "del", hostEnd); // gone with the namespace, unless that failed half way
    } catch {
      // Gone.
    }
  };
  process.once("exit", destroy);
  try {
    ip("netns", "add", name);
    ip("link", "add", hostEnd, "type", "veth", "peer", "name", innerEnd);
    ip("link", "set", innerEnd, "netns", name);
    ip("addr", "add", `${hostAddress}/30`, "dev", hostEnd);
    ip("link", "set", hostEnd, "up");
    ip("netns", "exec", name, "ip", "addr", "add", `${innerAddress}/30`, "dev", innerEnd);
    ip("netns", "exec", name, "ip", "link", "set", innerEnd, "up");
    ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    name,
    hostAddress,
    innerAddress,
    cut: () => ip("link", "set", hostEnd, "down"),
    restore: () => ip("link", "set", hostEnd, "up"),
    destroy,
  };
}
