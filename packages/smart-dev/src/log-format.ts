import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** How lines are drawn: the prefix width, and whether to colour. */
export interface LineStyle {
  readonly width: number;
  readonly colour: boolean;
}

const PALETTE: readonly Style[] = [
  'cyan',
  'magenta',
  'yellow',
  'green',
  'blue',
  'redBright',
  'cyanBright',
  'magentaBright',
];

const LEVELS: Record<number, [string, Style]> = {
  10: ['TRACE', 'gray'],
  20: ['DEBUG', 'gray'],
  30: ['INFO ', 'green'],
  40: ['WARN ', 'yellow'],
  50: ['ERROR', 'red'],
  60: ['FATAL', ['bgRed', 'white']],
};

const LABELS = new Map(
  Object.values(LEVELS).map(([label, style]) => [label.trim().toLowerCase(), [label, style] as const]),
);

// Keys every smart-service line has, or that the line shows in its own way.
const SHOWN = new Set([
  'time',
  'level',
  'msg',
  'service',
  'realm',
  'version',
  'pid',
  'hostname',
  'requestId',
  'reqId',
  'method',
  'route',
  'path',
  'status',
  'durationMs',
  'err',
]);

/** The JSON object of a pino line, or undefined for any other line. */
export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A stable colour per service, in the order services are listed. */
export function colourFor(index: number): Style {
  return PALETTE[index % PALETTE.length] ?? 'cyan';
}

function paint(style: LineStyle, format: Style, text: string): string {
  return style.colour ? styleText(format, text, { validateStream: false }) : text;
}

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** The body of a pino line: time, level, message, the access fields, other fields, request id. */
function jsonBody(json: Record<string, unknown>, style: LineStyle): string[] {
  // pino's numbers; loggers that write labels ("level":"warn") get theirs.
  const [label, colour] =
    LEVELS[Number(json.level)] ??
    LABELS.get(String(json.level).toLowerCase()) ??
    ([
      String(json.level ?? 'log')
        .toUpperCase()
        .padEnd(5),
      'white',
    ] as [string, Style]);
  const parts = [paint(style, 'gray', clock(json.time)), paint(style, colour, label)];
  if (typeof json.msg === 'string') parts.push(json.msg);
  if (json.method && json.status !== undefined) {
    const status = Number(json.status);
    const statusColour: Style = status >= 500 ? 'red' : status >= 400 ? 'yellow' : 'green';
    parts.push(`${json.method} ${json.path ?? json.route ?? ''}`, paint(style, statusColour, String(json.status)));
    if (json.durationMs !== undefined) parts.push(`${json.durationMs} ms`);
  }
  const err = json.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err && typeof err === 'object') parts.push(paint(style, 'red', `${err.type ?? 'Error'}: ${err.message ?? ''}`));
  for (const [key, value] of Object.entries(json)) {
    if (!SHOWN.has(key) && value !== undefined) parts.push(paint(style, 'gray', `${key}=${short(value)}`));
  }
  const requestId = json.requestId ?? json.reqId;
  if (requestId !== undefined) parts.push(paint(style, 'dim', `[${String(requestId)}]`));
  const lines = [parts.join(' ')];
  // A stack is worth its lines when something failed, not on every warning.
  if (err?.stack && Number(json.level) >= 50)
    lines.push(
      ...err.stack
        .split('\n')
        .slice(1)
        .map((l) => `    ${l.trim()}`),
    );
  return lines;
}

/**
 * One child's line as the terminal shows it: `name │ ` in the service's
 * colour, then pino fields made readable (time, level, message, request id)
 * or the raw text of any other line. Several lines when a stack follows.
 *
 * @example
 * formatLine('orders', 'cyan', '{"level":30,"time":1,"msg":"hi","requestId":"r1"}', { width: 8, colour: false });
 * // 'orders   │ 01:00:00.001 INFO  hi [r1]'
 */
export function formatLine(service: string, colour: Style, line: string, style: LineStyle): string {
  const json = parseJsonLine(line);
  const body = json ? jsonBody(json, style) : [line];
  const prefix = `${paint(style, colour, service.padEnd(style.width))} ${paint(style, 'gray', '│')} `;
  return body.map((text) => prefix + text).join('\n');
}

/** A line smart dev itself says about a service (started, crashed, restarting). */
export function formatNotice(service: string, colour: Style, text: string, style: LineStyle, tone?: Style): string {
  const prefix = `${paint(style, colour, service.padEnd(style.width))} ${paint(style, 'gray', '│')} `;
  return prefix + paint(style, tone ?? 'bold', text);
}
