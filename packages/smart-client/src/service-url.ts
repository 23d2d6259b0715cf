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
// Control characters (NUL, tab, CR, LF, ... DEL) and whitespace, Unicode's included: the URL parser
// strips some (tab, CR, LF) and keeps others, and either way the path that arrives is not the one written.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/u;
// A dot segment (`.`, `..`), also percent-encoded (`%2e`, `.%2E`): resolved by URL parsers and many
// servers, it would take the call out of the path the caller named. A backslash is a slash to some servers.
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/** The path (without its query) may go to the upstream as written. */
function checkPath(text: string): void {
  const unsafe = UNSAFE.exec(text);
  if (unsafe)
    throw badUrl(
      `control character or whitespace U+${(unsafe[0].codePointAt(0) as number).toString(16).padStart(4, '0')}`,
    );
  const rest = text.slice('service://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return;
  const query = rest.search(/[?#]/);
  const path = rest.slice(slash, query >= 0 && query > slash ? query : undefined);
  if (DOT_SEGMENT.test(path)) throw badUrl('dot segments (. or .., plain or %2e) are not allowed in the path');
  if (path.includes('\\')) throw badUrl('backslashes are not allowed in the path');
  if (/%(0[0-9a-f]|1[0-9a-f]|7f)/i.test(path))
    throw badUrl('percent-encoded control characters are not allowed in the path');
}

/**
 * Parses a `service://` URL. Malformed ones (no name, userinfo, a port, an
 * over-long URL, a control character or whitespace anywhere, a dot segment
 * or backslash in the path) fail here with `SMART_CLIENT_BAD_URL`, before
 * any socket opens: the path is sent as written, never silently cleaned.
 * Plain `http(s)://` URLs return undefined: they pass through unresolved.
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
  checkPath(text);
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

/** A call's URL, parsed: the target (the service, or a plain URL's origin), the path, the origin of a plain URL. */
export interface ParsedUrl {
  readonly target: string;
  readonly path: string;
  /** A plain `http(s)://` URL's origin; undefined for `service://`. */
  readonly origin: string | undefined;
}

// URLs longer than this are parsed every time (they are rare, and a cache of them would hold much memory).
const CACHED_UP_TO = 512;
const CACHE_SIZE = 1_024;

/**
 * The client's parsed URLs: a service calls the same few URLs again and
 * again, and checking one (`parseServiceUrl`'s rules, or a plain URL's
 * parse) cost about a microsecond, a fair share of a call. A URL is checked
 * once, then found by its text; a malformed one is checked every time (it
 * throws, so it is never kept). Bounded: past `CACHE_SIZE` entries it
 * starts over.
 *
 * @example
 * const urls = new ParsedUrls();
 * urls.parse('service://users/ann?x=1') // { target: 'users', path: '/ann?x=1', origin: undefined }
 */
export class ParsedUrls {
  readonly #byText = new Map<string, ParsedUrl>();

  parse(input: string | URL): ParsedUrl {
    const text = typeof input === 'string' ? input : String(input);
    let parsed = this.#byText.get(text);
    if (parsed) return parsed;
    const service = parseServiceUrl(text);
    if (service) parsed = { target: service.service, path: service.path, origin: undefined };
    else {
      const url = new URL(text);
      parsed = { target: url.origin, path: `${url.pathname}${url.search}`, origin: url.origin };
    }
    if (text.length <= CACHED_UP_TO) {
      if (this.#byText.size >= CACHE_SIZE) this.#byText.clear();
      this.#byText.set(text, parsed);
    }
    return parsed;
  }
}
