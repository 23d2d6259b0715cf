import type { ConfigKey } from './config-keys.ts';

/** The outcome of turning a string into a key's type. */
export type Coerced = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$|^0x[0-9a-f]+$/i;

/**
 * Turns a string (from the environment, a file, a command line) into the
 * type the key's schema expects: numbers, booleans (`true/false/1/0/yes/no/
 * on/off`), bigints, dates, and JSON for arrays, objects and unions. Values
 * of other types pass through. A failure message never repeats a secret.
 *
 * @example
 * coerce({ kind: 'number', secret: false, ... }, '20') // { ok: true, value: 20 }
 */
export function coerce(key: ConfigKey, raw: unknown): Coerced {
  if (typeof raw !== 'string' || key.kind === 'string') return { ok: true, value: raw };
  const text = raw.trim();
  const shown = key.secret ? 'the value' : JSON.stringify(raw);
  switch (key.kind) {
    case 'number':
      return NUMBER.test(text) ? { ok: true, value: Number(text) } : { ok: false, message: `${shown} is not a number` };
    case 'boolean': {
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return { ok: false, message: `${shown} is not a boolean (use true/false, 1/0, yes/no, on/off)` };
    }
    case 'bigint':
      return /^[+-]?\d+$/.test(text)
        ? { ok: true, value: BigInt(text) }
        : { ok: false, message: `${shown} is not an integer` };
    case 'date': {
      const date = new Date(text);
      return Number.isNaN(date.getTime())
        ? { ok: false, message: `${shown} is not a date` }
        : { ok: true, value: date };
    }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch {
        if (/^[[{]/.test(text)) return { ok: false, message: `${shown} is not valid JSON` };
        // A union of strings and other types takes a bare word as a string.
        return { ok: true, value: raw };
      }
  }
}
