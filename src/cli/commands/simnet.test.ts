import { Command } from 'commander';
import { expect, test } from 'vitest';
import { registerSimnetCommands } from './simnet';
import { openTestDatabase } from '../../../test/support/db';

/** `tradeclear simnet` starts the chain and its JSON-RPC server, auto-mines, and stops cleanly. */

const MINE_TO = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('simnet serves JSON-RPC on the printed URL and mines at the block interval', async () => {
  const lines: string[] = [];
  const controller = new AbortController();
  const program = new Command().exitOverride();
  registerSimnetCommands(program, {
    openDatabase: () => openTestDatabase(),
    io: { stdout: (text) => lines.push(text), stderr: (text) => lines.push(text) },
    signal: controller.signal,
  });
  const running = program.parseAsync(
    [
      'simnet',
      '--rpc-port',
      '0',
      '--rpc-user',
      'u',
      '--rpc-password',
      'p',
      '--block-interval',
      '0.2',
      '--mine-to',
      MINE_TO,
    ],
    { from: 'user' },
  );
  const url = await waitFor(
    () => lines.map((line) => /JSON-RPC: (\S+)/.exec(line)?.[1]).find(Boolean),
    'the URL',
  );
  expect(lines.join('\n')).not.toContain('password:');
  const count = async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
      body: JSON.stringify({ method: 'getblockcount', params: [], id: 1 }),
    });
    return (JSON.parse(await response.text()) as { result: number }).result;
  };
  await waitFor(async () => ((await count()) >= 2 ? true : undefined), 'two mined blocks');
  controller.abort();
  await running;
  expect(lines).toContain('simnet: stopping');
});

test('with --esplora-port it also serves the Esplora HTTP API over the same chain', async () => {
  const lines: string[] = [];
  const controller = new AbortController();
  const program = new Command().exitOverride();
  registerSimnetCommands(program, {
    openDatabase: () => openTestDatabase(),
    io: { stdout: (text) => lines.push(text), stderr: (text) => lines.push(text) },
    signal: controller.signal,
  });
  const running = program.parseAsync(
    [
      'simnet',
      '--rpc-port',
      '0',
      '--esplora-port',
      '0',
      '--block-interval',
      '0.2',
      '--mine-to',
      MINE_TO,
    ],
    { from: 'user' },
  );
  const url = await waitFor(
    () => lines.map((line) => /Esplora: +(\S+)/.exec(line)?.[1]).find(Boolean),
    'the Esplora URL',
  );
  const height = async () => Number(await (await fetch(`${url}/blocks/tip/height`)).text());
  await waitFor(async () => ((await height()) >= 2 ? true : undefined), 'two mined blocks');
  const tip = await (await fetch(`${url}/blocks/tip/hash`)).text();
  const block = (await (await fetch(`${url}/block/${tip}`)).json()) as { id: string };
  expect(block.id).toBe(tip);
  controller.abort();
  await running;
  expect(lines).toContain('simnet: stopping');
});

test('bad options are refused with a message naming them', async () => {
  const program = new Command().exitOverride();
  let opened = false;
  registerSimnetCommands(program, {
    openDatabase: () => {
      opened = true;
      return openTestDatabase();
    },
    io: { stdout: () => undefined, stderr: () => undefined },
  });
  await expect(
    program.parseAsync(['simnet', '--block-interval', 'soon'], { from: 'user' }),
  ).rejects.toThrow(/--block-interval must be a number of seconds/);
  await expect(
    program.parseAsync(['simnet', '--block-interval', '5'], { from: 'user' }),
  ).rejects.toThrow(/--mine-to is required/);
  await expect(
    program.parseAsync(['simnet', '--esplora-port', 'http'], { from: 'user' }),
  ).rejects.toThrow(/--esplora-port must be a port number/);
  expect(opened).toBe(false);
});
