import type { Etcd3, IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse } from 'etcd3';

type Stream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

interface Pending {
  readonly resolve: (alive: boolean) => void;
  readonly reject: (err: Error) => void;
}

/**
 * Grants, keeps alive and revokes etcd leases by id, for leases this
 * process did not necessarily grant (an instance registered through another
 * Atlas heartbeats through this one). Keep-alives share one bidirectional
 * stream, as etcd means them to (a stream per heartbeat would cost a round
 * trip to set up each time); answers come back in order per lease, so each
 * lease's pending keep-alives are a queue. A broken stream fails what it
 * holds and the next keep-alive opens a new one (on another member if need be).
 *
 * @example
 * const leases = new LeaseKeeper(client);
 * const id = await leases.grant(30_000);
 * await leases.keepAlive(id); // false once the lease has lapsed
 */
export class LeaseKeeper {
  readonly #client: Etcd3;
  #stream: Promise<Stream> | undefined;
  readonly #pending = new Map<string, Pending[]>();
  readonly #timeoutMs: number;

  constructor(client: Etcd3, timeoutMs = 5_000) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  /** A new lease of `ttlMs`, rounded up to whole seconds (etcd's unit). */
  async grant(ttlMs: number): Promise<string> {
    const res = await this.#client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlMs / 1_000)) });
    return res.ID;
  }

  /** Starts the lease's TTL again; false when it has lapsed or was revoked. Tries a second stream once. */
  async keepAlive(id: string): Promise<boolean> {
    try {
      return await this.#keepAliveOnce(id);
    } catch {
      return this.#keepAliveOnce(id);
    }
  }

  async #keepAliveOnce(id: string): Promise<boolean> {
    const opened = this.#open();
    const stream = await opened;
    return new Promise<boolean>((resolve, reject) => {
      // A member that stops answering without closing the stream: give up on the stream, not just this call.
      const timer = setTimeout(() => {
        if (this.#stream === opened) this.#stream = undefined;
        stream.end();
        this.#fail(new Error(`etcd did not answer a keep-alive within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      const queue = this.#pending.get(id) ?? [];
      queue.push({
        resolve: (alive) => {
          clearTimeout(timer);
          resolve(alive);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.#pending.set(id, queue);
      stream.write({ ID: id });
    });
  }

  /** Ends the lease now (its keys go with it); a lease already gone is fine. */
  async revoke(id: string): Promise<void> {
    await this.#client.leaseClient.leaseRevoke({ ID: id }).catch(() => {});
  }

  #open(): Promise<Stream> {
    if (this.#stream) return this.#stream;
    const opened = this.#client.leaseClient.leaseKeepAlive().then((stream) => {
      stream.on('data', (res) => {
        const queue = this.#pending.get(res.ID);
        const next = queue?.shift();
        if (queue && queue.length === 0) this.#pending.delete(res.ID);
        next?.resolve(Number(res.TTL) > 0);
      });
      const broken = (err: Error) => {
        if (this.#stream === opened) this.#stream = undefined;
        this.#fail(err);
      };
      stream.on('error', broken);
      stream.on('end', () => broken(new Error('etcd closed the keep-alive stream')));
      return stream;
    });
    opened.catch(() => {
      if (this.#stream === opened) this.#stream = undefined;
    });
    this.#stream = opened;
    return opened;
  }

  #fail(err: Error): void {
    const pending = [...this.#pending.values()].flat();
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }

  /** Ends the stream; pending keep-alives fail. */
  close(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.then((s) => s.end()).catch(() => {});
  }
}
