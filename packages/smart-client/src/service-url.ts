import { SERVICE_NAME_PATTERN } from 'smart-protocol';
import { badUrl } from './errors.ts';

/** A parsed `service://name/path?query`. */
export interface ServiceTarget {
  readonly service: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
}

// service://name/path?query, the common case, parsed without URL (the name checked next).
const QUICK = /^service:\/\/([^/\s#@?:]+)(\/[^\s#@]*)?$/;
const MAX_URL = 8_192;

/**
 * Parses a `service://` URL. Malformed ones (no name, userinfo, a port, an
 * over-long URL) fail here, before any socket opens. Plain `http(s)://` URLs
 * return undefined: they pass through unresolved.
 *
 * @example
 * parseServiceUrl('service://userstore/users/42?fields=name') // { service: 'userstore', path: '/users/42?fields=name' }
 */
export function parseServiceUrl(input: string | URL): ServiceTarget | undefined {
  const text = String(input);
  if (text.length > MAX_URL) throw badUrl(`longer than ${MAX_URL} characters`);
  if (!/^service:/i.test(text)) {
    if (!/^https?:\/\//i.test(text)) throw badUrl(`"${text.slice(0, 100)}" is neither service:// nor http(s)://`);
    return undefined;
  }
  const quick = QUICK.exec(text);
  if (quick && SERVICE_NAME_PATTERN.test(quick[1] as string))
    return { service: quick[1] as string, path: quick[2] ?? '/' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl(`"${text.slice(0, 100)}" does not parse`);
  }
  if (url.username || url.password) throw badUrl('service URLs carry no credentials');
  if (url.port) throw badUrl('service URLs carry no port: the resolver picks the instance');
  if (!SERVICE_NAME_PATTERN.test(url.hostname)) throw badUrl(`"${url.hostname}" is not a service name (kebab-case)`);
  return { service: url.hostname, path: `${url.pathname || '/'}${url.search}` };
}
