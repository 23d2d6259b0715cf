import { colourFor, formatLine, formatNotice, type LineStyle } from './log-format.ts';
import type { DevLogLine } from './types.ts';

type Style = ReturnType<typeof colourFor>;

/** What the terminal shows of the embedded Atlas: only what went wrong (its access lines are heartbeats). */
function shownFromAtlas(line: DevLogLine): boolean {
  return line.json === undefined || Number(line.json.level) >= 50;
}

/**
 * The terminal side of a dev session: every service's lines behind a
 * coloured `name │ ` prefix, smart dev's own notices, the summary block.
 * Colour only when the stream is a terminal that wants it (NO_COLOR,
 * FORCE_COLOR honoured through `hasColors()`).
 *
 * @example
 * const out = new DevOutput(process.stdout, ['orders', 'users']);
 * out.notice('orders', 'listening at http://127.0.0.1:40001');
 */
export class DevOutput {
  readonly #stream: NodeJS.WritableStream | undefined;
  readonly #style: LineStyle;
  readonly #colours = new Map<string, Style>();

  constructor(stream: NodeJS.WritableStream | undefined, names: readonly string[]) {
    this.#stream = stream;
    const tty = stream as { hasColors?: () => boolean } | undefined;
    this.#style = {
      width: Math.max(...names.map((n) => n.length), 'smart dev'.length),
      colour: typeof tty?.hasColors === 'function' && tty.hasColors(),
    };
    names.forEach((name, i) => {
      this.#colours.set(name, colourFor(i));
    });
    this.#colours.set('atlas', 'gray');
    this.#colours.set('smart dev', 'white');
  }

  #colour(name: string): Style {
    return this.#colours.get(name) ?? 'white';
  }

  #write(text: string): void {
    // A closed terminal or pipe must not take the session down with it.
    try {
      this.#stream?.write(`${text}\n`);
    } catch {}
  }

  /** A line a child wrote. */
  line(line: DevLogLine): void {
    if (!this.#stream) return;
    if (line.service === 'atlas' && !shownFromAtlas(line)) return;
    this.#write(formatLine(line.service, this.#colour(line.service), line.line, this.#style));
  }

  /** smart dev's own word about a service (or `smart dev` itself). */
  notice(name: string, text: string, tone?: Style): void {
    if (!this.#stream) return;
    this.#write(formatNotice(name, this.#colour(name), text, this.#style, tone));
  }

  /** Where everything listens, once all are ready. */
  summary(
    services: readonly { name: string; url: string | undefined }[],
    atlasUrl: string,
    watching: boolean,
    dashboardUrl?: string,
  ): void {
    if (!this.#stream) return;
    const width = Math.max(...services.map((s) => s.name.length), 'dashboard'.length);
    const lines = [
      `ready: ${services.length} service${services.length === 1 ? '' : 's'} in realm local`,
      ...services.map((s) => `  ${s.name.padEnd(width)}  ${s.url ?? '(not listening)'}`),
      `  ${'atlas'.padEnd(width)}  ${atlasUrl}  (SMART_ATLAS_URL)`,
      ...(dashboardUrl ? [`  ${'dashboard'.padEnd(width)}  ${dashboardUrl}  (traces, logs, config, monitor)`] : []),
      watching ? 'restarting services when their files change; Ctrl-C stops everything' : 'Ctrl-C stops everything',
    ];
    // One write: no service's log line lands inside the summary, and a reader sees it whole.
    const colour = this.#colour('smart dev');
    this.#write(
      lines
        .map((text) => formatNotice('smart dev', colour, text, this.#style, text.startsWith('  ') ? 'reset' : 'bold'))
        .join('\n'),
    );
  }
}
