import type { Agent } from 'undici';
import { AddressPolicy } from './address-policy.ts';
import type { ClientOptions } from './options.ts';

// undici is ~110 files, the largest part of a service's start that calls no
// one at start (issue 16): it is imported when the first call needs the agent.
let undici: Promise<typeof import('undici')> | undefined;
const importUndici = () => {
  undici ??= import('undici');
  return undici;
};

/**
 * The agent a client sends with, made on first use: `current` is the agent
 * once made (synchronously, so every call after the first reaches undici
 * without an await), `load()` imports undici and makes it (the first call
 * pays that wait; calls made meanwhile share it). Keep-alive, `connections`
 * per origin, and a connect-time `lookup` that refuses a host name resolving
 * to a denied address (or outside the allowed networks) before the socket
 * connects.
 *
 * @example
 * const agent = new LazyAgent({ connections: 16 });
 * const answer = await (agent.current ?? (await agent.load())).request({ origin, path: '/', method: 'GET' });
 */
export class LazyAgent {
  readonly #connections: number;
  readonly #policy: AddressPolicy;
  #agent: Agent | undefined;
  #loading: Promise<Agent> | undefined;
  #closed = false;

  constructor(options: ClientOptions) {
    this.#connections = options.connections ?? 128;
    // Made here, so a bad allowedHosts or deniedAddresses fails createClient, not the first call.
    this.#policy = new AddressPolicy({
      ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
      ...(options.deniedAddresses ? { deniedAddresses: options.deniedAddresses } : {}),
    });
  }

  /** The agent, once made; `undefined` before the first `load()` settles. */
  get current(): Agent | undefined {
    return this.#agent;
  }

  /** Imports undici (once per process) and makes the agent (once per client). */
  load(): Promise<Agent> {
    this.#loading ??= importUndici().then(({ Agent }) => {
      const agent = new Agent({
        connections: this.#connections,
        keepAliveTimeout: 30_000,
        connect: { lookup: this.#policy.lookup },
      });
      // A call after close() is refused by the closed agent, as it was when the agent came first.
      if (this.#closed) void agent.close();
      this.#agent = agent;
      return agent;
    });
    return this.#loading;
  }

  /** Closes the agent's connections; a client that never called has none (and imports nothing). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#loading) await (await this.#loading).close();
  }
}
