import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { logDestination } from '../../src/http/log-format';
import { startTestApp } from '../support/http';

/** The server's log lines: JSON for collectors, one terse line for people; one per request. */
describe('server logs', () => {
  const capture = () => {
    const out = new PassThrough() as PassThrough & { isTTY?: boolean };
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    return { out: out as unknown as NodeJS.WriteStream, lines };
  };

  it('writes JSON when piped, and one human line with LOG_FORMAT=pretty', async () => {
    const piped = capture();
    const json = pino({ base: { pid: 1, hostname: 'h' } }, await logDestination({}, piped.out));
    json.info({ job: 'chain.sync' }, 'synced');
    expect(JSON.parse(piped.lines[0]!)).toMatchObject({
      level: 30,
      msg: 'synced',
      job: 'chain.sync',
    });

    const human = capture();
    const pretty = pino(
      { base: { pid: 1, hostname: 'h' } },
      await logDestination({ LOG_FORMAT: 'pretty' }, human.out),
    );
    pretty.warn({ job: 'chain.sync', failures: 2 }, 'chain sync failed; retrying');
    expect(human.lines).toHaveLength(1);
    const line = human.lines[0]!;
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: chain sync failed; retrying /);
    expect(line).toContain('"failures":2');
    expect(line).not.toContain('hostname');
    expect(line).not.toContain('{"level"');
  });

  it('logs one line per request at debug, none at info', async () => {
    for (const [level, expected] of [
      ['debug', 1],
      ['info', 0],
    ] as const) {
      const t = await startTestApp({ env: { LOG_LEVEL: level } });
      try {
        const key = await t.keyFor('auditor', 'scheme');
        t.logs.length = 0;
        const response = await t.app.inject({ method: 'GET', url: '/v1/me', headers: key });
        expect(response.statusCode).toBe(200);
        const lines = t.logs.filter((l) => l.includes('GET /v1/me'));
        expect(lines).toHaveLength(expected);
        if (expected) {
          const entry = JSON.parse(lines[0]!) as { level: number; msg: string };
          expect(entry.level).toBe(20);
          expect(entry.msg).toMatch(/^GET \/v1\/me 200 \d+ ms$/);
        }
        expect(t.logs.filter((l) => l.includes('incoming request'))).toEqual([]);
      } finally {
        await t.close();
      }
    }
  });
});
