import { type AtlasClient, createAtlasClient } from 'atlas-client';

/** Where the CLI finds Atlas: `SMART_ATLAS_URL` and `SMART_ATLAS_TOKEN` (never a flag: flags end up in shell history). */
export function cliClient(env: NodeJS.ProcessEnv, url?: string): AtlasClient {
  return createAtlasClient({
    url: url ?? env.SMART_ATLAS_URL ?? 'http://127.0.0.1:4100',
    token: env.SMART_ATLAS_TOKEN,
  });
}

/** `key=value` pairs: a value that parses as JSON is JSON (`20`, `true`, `["a"]`), anything else a string. */
export function parseAssignments(pairs: readonly string[]): [string, unknown][] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`"${pair}" is not key=value`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a bare word is a string
    }
    return [pair.slice(0, eq), value];
  });
}

/** The lines `config get` prints: `key = value`, secrets the token may not see as `(secret)`. */
export async function configGet(client: AtlasClient, service: string, realm: string, key?: string): Promise<string[]> {
  const { data } = await client.getConfig(service, realm);
  return data.entries
    .filter((entry) => key === undefined || entry.key === key)
    .map((entry) => {
      const shown = 'value' in entry ? JSON.stringify(entry.value) : '(secret)';
      const from = entry.source === service ? '' : `  (from ${entry.source})`;
      return `${entry.key} = ${entry.secret && 'value' in entry ? `${shown}  (secret)` : shown}${from}`;
    });
}

export async function configSet(
  client: AtlasClient,
  service: string,
  realm: string,
  pairs: readonly string[],
  secret: boolean,
) {
  const assignments = parseAssignments(pairs);
  for (const [key, value] of assignments) await client.setConfig(service, realm, key, value, { secret });
  return assignments.map(([key]) => `set ${service}/${realm}/${key}${secret ? ' (secret)' : ''}`);
}

export async function configUnset(client: AtlasClient, service: string, realm: string, keys: readonly string[]) {
  for (const key of keys) await client.unsetConfig(service, realm, key);
  return keys.map((key) => `unset ${service}/${realm}/${key}`);
}

export async function listServices(client: AtlasClient, realm: string) {
  return (await client.services(realm)).map(
    (s) => `${s.service}  ${s.instances} instance${s.instances === 1 ? '' : 's'}`,
  );
}

export async function listInstances(client: AtlasClient, service: string, realm: string) {
  return (await client.instances(service, realm)).data.map(
    (i) =>
      `${i.id}  ${i.url}  ${i.version || '-'}  expires in ${Math.max(0, Math.round((i.expiresAt - Date.now()) / 1000))} s`,
  );
}
