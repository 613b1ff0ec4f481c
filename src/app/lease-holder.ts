/**
 * Who holds leases on behalf of this process. By default a fresh id per process, which is
 * right whenever several processes of one kind may run side by side (server-mode workers and
 * API processes): a dead one's leases then expire by TTL. The embedded `serve` is the only
 * process of its data directory, so it uses a stable id: after a crash and restart it takes
 * its own leases back at once instead of waiting for them to expire.
 */

let holder = `process:${crypto.randomUUID()}`;

export function processLeaseHolder(): string {
  return holder;
}

export function setProcessLeaseHolder(id: string): void {
  if (id.length === 0) throw new Error('lease holder id must not be empty');
  holder = id;
}

/** The stable identity of the embedded `serve` of one data directory on one host. */
export function embeddedLeaseHolder(host: string, dataDir: string): string {
  return `embedded-serve:${host}:${dataDir}`;
}
