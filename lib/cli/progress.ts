/**
 * Progress of long CLI work (host side): a bar redrawn in place on a terminal, nothing but the
 * command's own plain lines otherwise (a pipe, a file, CI logs, TERM=dumb), so logs never fill
 * with carriage returns and escape codes.
 *
 * Hand-written rather than cli-progress or similar: it is one bar with a count, drawn on stderr
 * between lines the command prints, and about sixty lines. A dependency would bring its own
 * terminal-width and ANSI handling (and their dependencies) into every install of deja, a
 * library most users embed and never run from a terminal.
 *
 * The bar is redrawn when its text changes, at most once per thousandth of the work: no clock,
 * so its output is the same on every run and a test can assert it.
 */
import type { ProgressStream } from './common';

export interface Progress {
  /** One unit of work is done. */
  step(): void;
  /** Prints a line (through `write`) above the bar, which is redrawn after it. */
  line(write: () => void): void;
  /** The work is over: the bar is cleared, so the summary that follows stands alone. */
  done(): void;
  /** Whether a bar is drawn (the stream is a terminal). */
  readonly bar: boolean;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * A progress reporter for `total` units of `noun` (plural) on `stream`. A bar only when the stream
 * is a terminal, the terminal is not `dumb`, and there is more than one unit.
 */
export function createProgress(stream: ProgressStream | undefined, total: number, label: string, noun: string, env: NodeJS.ProcessEnv = process.env): Progress {
  const bar = stream !== undefined && stream.isTTY === true && env.TERM !== 'dumb' && total > 1;
  if (!bar) {
    return { bar: false, step() {}, line: (write) => write(), done() {} };
  }
  let count = 0;
  let drawn = '';
  let visible = false;
  const render = () => {
    const text = `${count}/${total} ${noun}`;
    const room = (stream.columns ?? 80) - label.length - text.length - 6;
    const width = Math.max(10, Math.min(40, room));
    const filled = Math.round((count / total) * width);
    return `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${text}`;
  };
  const draw = (force: boolean) => {
    const text = render();
    if (!force && text === drawn) return;
    drawn = text;
    visible = true;
    stream.write(`${CLEAR_LINE}${text}`);
  };
  const clear = () => {
    if (visible) stream.write(CLEAR_LINE);
    visible = false;
  };
  draw(true);
  return {
    bar: true,
    step() {
      count = Math.min(total, count + 1);
      // At most one redraw per thousandth of the work, and always the last one.
      if (count === total || Math.floor((count * 1000) / total) !== Math.floor(((count - 1) * 1000) / total)) draw(false);
    },
    line(write) {
      clear();
      write();
      draw(true);
    },
    done() {
      clear();
    },
  };
}
