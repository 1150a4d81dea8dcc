import type { Config } from '../kernel';

/** Where the server's log lines go (each line already scrubbed by log-safety.ts). */
export interface LogStream {
  write(line: string): void;
}

/**
 * The log destination LOG_FORMAT asks for: JSON lines on stdout (`json`, and the default when
 * stdout is piped to a collector), or one terse, human line per entry (`pretty`, the default on
 * a terminal): time, level, message and its fields, without pid or host name.
 */
export async function logDestination(
  config: Pick<Config, 'LOG_FORMAT'>,
  stdout: NodeJS.WriteStream = process.stdout,
): Promise<LogStream> {
  const format = config.LOG_FORMAT ?? (stdout.isTTY ? 'pretty' : 'json');
  if (format === 'json') return stdout;
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    destination: stdout,
    colorize: stdout.isTTY === true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,reqId',
    sync: true,
  });
}
