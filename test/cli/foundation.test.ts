import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import path from 'node:path';
import { openDatabase, rowsOf } from '../../src/db';
import { cliSandbox } from '../support/cli';
import packageJson from '../../package.json' with { type: 'json' };
import { buildProgram, COMMANDS, createContext } from '../../src/cli/program';

describe('tradeclear CLI', () => {
  const cli = cliSandbox();
  afterAll(() => cli.cleanup());

  it('prints help for the program and every command', async () => {
    const help = await cli.run('--help');
    expect(help.code).toBe(0);
    for (const command of ['serve', 'up', 'migrate', 'keys', 'audit'])
      expect(help.stdout).toContain(command);
    for (const command of [['keys', 'create'], ['audit', 'verify'], ['migrate']]) {
      const sub = await cli.run(...command, '--help');
      expect(sub.code).toBe(0);
      expect(sub.stdout).toMatch(/Usage: tradeclear/);
    }
  });

  it('prints its version, the one in package.json', async () => {
    for (const flag of ['--version', '-V']) {
      const printed = await cli.run(flag);
      expect(printed.code).toBe(0);
      expect(printed.stdout.trim()).toBe(packageJson.version);
    }
  });

  it('names every command in the help without loading it, with the description its module gives', async () => {
    const full = await buildProgram(createContext({}), null);
    const registered = new Map(full.commands.map((c) => [c.name(), c.description()]));
    expect([...registered.keys()].sort()).toEqual(COMMANDS.map((c) => c.name).sort());
    for (const command of COMMANDS) expect(command.description).toBe(registered.get(command.name));
    const help = await cli.run('--help');
    for (const command of COMMANDS) {
      expect(help.stdout).toContain(command.name);
      const sub = await cli.run(command.name, '--help');
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain(`Usage: tradeclear ${command.name}`);
    }
    const unknown = await cli.run('frobnicate');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('migrates, bootstraps a supervisor key, and verifies the audit chain', async () => {
    expect((await cli.run('migrate')).stdout).toContain('migrations applied (pglite)');
    const created = await cli.run('keys', 'create', '--role', 'supervisor', '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as {
      token: string;
      role: string;
      participantId: string;
    };
    expect(key).toMatchObject({ role: 'supervisor', participantId: 'scheme' });
    expect(key.token).toMatch(/^tck_key_[0-9A-Z]{26}_[a-z2-7]{32}$/);
    const verified = await cli.run('audit', 'verify', '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, events: 1 });
  });

  it('fails verification and names the event when an audit row is altered by hand', async () => {
    await cli.run('keys', 'create', '--role', 'auditor', '--name', 'second');
    await cli.run('keys', 'create', '--role', 'auditor', '--name', 'third');
    const db = await openDatabase({ dataDir: path.join(cli.dataDir, 'db') });
    const ids = rowsOf(await db.orm.execute(sql`select id from audit_events order by seq`));
    const target = String(ids[1]?.id);
    await db.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger audit_events_no_update`);
      await tx.execute(sql`update audit_events set actor = 'someone-else' where id = ${target}`);
      await tx.execute(sql`alter table audit_events enable trigger audit_events_no_update`);
    });
    await db.close();
    const verified = await cli.run('audit', 'verify');
    expect(verified.code).toBe(2);
    expect(verified.stderr.trim().split('\n')).toHaveLength(1);
    expect(verified.stderr).toContain(`event ${target}`);
    expect(verified.stderr).toContain('altered');
  });

  it('answers bad input with one line and a non-zero exit, no stack trace', async () => {
    const badRole = await cli.run('keys', 'create', '--role', 'emperor');
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toBe(
      'error: --role must be one of supervisor, platform, company, miner, auditor, got "emperor"\n',
    );
    const missing = await cli.run('keys', 'create', '--role', 'platform');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--participant is required/);
    const unknownCommand = await cli.run('frobnicate');
    expect(unknownCommand.code).not.toBe(0);
    const badConfig = cliSandbox({ PORT: 'eighty' });
    const config = await badConfig.run('migrate');
    expect(config.code).toBe(1);
    expect(config.stderr).toMatch(/^error: invalid configuration: PORT/);
    expect(config.stderr).not.toMatch(/\n\s+at /);
    badConfig.cleanup();
  });
});
