/**
 * Sluice's one logger, for its own lines and for Probot's: pino, as Probot
 * builds it (`LOG_LEVEL`, `LOG_FORMAT=json`, `LOG_LEVEL_IN_STRING`, and
 * pino-pretty with Probot's settings for a terminal). Every record is
 * masked before it is written: the message and every string field.
 *
 * Records are written synchronously, not through a stream as Probot does,
 * so the last lines before the process exits (a stop, a failed start) are
 * not lost.
 */
import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { createMasker, MASK } from '../executor/mask-secrets.ts';
import { maskFields } from './mask-fields.ts';
import { errorMessage } from '../sluice-error.ts';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /** The level of Sluice's own lines (default info). */
  level?: string;
  /** The level of Probot's own lines (default warn, as `LOG_LEVEL`'s default in Probot). */
  probotLevel?: string;
  format?: LogFormat;
  /** With `json`: `"level": "info"` instead of `30`. */
  levelInString?: boolean;
  /** Values no line may show, in any of the forms output may give them (base64, hex, URL- or JSON-escaped …). */
  secrets?: readonly string[];
  /**
   * Keys (PEM): no line may show any line of them as it is. Every form of
   * every line of a key would make a pattern that takes seconds to run.
   */
  keys?: readonly string[];
  /** Where a finished line goes (default: stdout). */
  write?: (line: string) => void;
  /** Instead of formatting: each masked record, for a caller that prints only its message. */
  record?: (record: LogRecord) => void;
}

export interface LogRecord {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

// As @probot/pino leaves them out of its pretty output.
const PRETTY_IGNORE = 'time,pid,hostname,req,res,responseTime';
const PRETTY_ERROR_PROPS = 'event,status,headers,request,sentryEventId';

export function createLogger(options: LoggerOptions = {}): Logger {
  const masker = createMasker(options.secrets ?? []);
  const keyLines = (options.keys ?? [])
    .flatMap((key) => key.split(/\r?\n|\\n/))
    .map((line) => line.trim())
    .filter((line) => line.length >= 16 && !line.startsWith('-----'));
  const mask = (text: string) => keyLines.reduce((masked, line) => masked.replaceAll(line, MASK), masker(text));
  const write = options.write ?? writeStdout;
  const pretty = prettyFactory({ ignore: PRETTY_IGNORE, errorProps: PRETTY_ERROR_PROPS });
  const destination = {
    write(line: string) {
      let record: LogRecord;
      try {
        record = maskFields(JSON.parse(line), mask) as LogRecord;
      } catch (error) {
        // A log line must never break what logs it; this one says that it was held back, and why.
        const parsed = JSON.parse(line) as LogRecord;
        record = {
          level: parsed.level,
          time: parsed.time,
          msg: `(a log line was held back: it could not be masked: ${errorMessage(error)})`,
        };
      }
      if (options.record) return options.record(record);
      if (options.format !== 'json') return write(pretty(record));
      const out = options.levelInString
        ? { ...record, level: pino.levels.labels[record.level] ?? record.level }
        : record;
      write(`${JSON.stringify(out)}\n`);
    },
  };
  const logger = pino({ level: options.level ?? 'info', name: 'sluice', messageKey: 'msg' }, destination);
  return logger;
}

let stdoutWatched = false;
let stdoutGone = false;

/**
 * Stdout, as long as it takes lines. When the reader of a pipe goes away
 * (`npm start | head`, a log shipper that died), Node reports EPIPE as an
 * 'error' event that would end the service in the middle of a deploy;
 * instead the lines are dropped, and Sluice runs on.
 */
function writeStdout(line: string): void {
  if (stdoutGone) return;
  if (!stdoutWatched) {
    stdoutWatched = true;
    process.stdout.on('error', () => (stdoutGone = true));
  }
  process.stdout.write(line);
}

/** A child for Probot, at its own level: Probot's defaults stay quiet while Sluice's lines show. */
export function probotLogger(logger: Logger, level: string | undefined): Logger {
  return logger.child({}, { level: level ?? 'warn' });
}
