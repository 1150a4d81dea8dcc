import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AppError, formatBtc, isAppError } from '../../kernel';
import {
  decodeBlockInput,
  isBlockFile,
  parseBlock,
  readBlockFile,
  type ParsedBlock,
} from '../../bitcoin';
import { printResult, processIo, type CliIo } from '../io';

/**
 * `tradeclear block inspect FILE`: reads a raw block, blk*.dat framing or hex text and reports
 * what the block holds and whether its merkle root and witness commitment (BIP141) verify.
 * Bad input is an INVALID_BLOCK AppError with one line saying where parsing failed.
 */
export function registerBlockCommands(
  program: Command,
  io: Pick<CliIo, 'stdout'> = processIo,
): void {
  const block = program.command('block').description('inspect raw Bitcoin blocks');
  block
    .command('inspect')
    .description('parse a block (raw bytes, blk*.dat framing or hex) and verify its commitments')
    .argument('<file>', 'block file: raw consensus bytes, blk*.dat, or hex text')
    .option('--json', 'print JSON')
    .option('--txids', 'also list every txid')
    .action(async (file: string, options: { json?: boolean; txids?: boolean }) => {
      const out: CliIo = {
        stdout: (text) => io.stdout(text),
        stderr: (text) => processIo.stderr(text),
      };
      const reports = await inspectBlockFile(file, options.txids ?? false);
      const json = options.json ?? false;
      if (json) {
        printResult(out, reports.length === 1 ? { ...reports[0] } : { blocks: reports }, true);
        return;
      }
      reports.forEach((report, i) => {
        if (i > 0) io.stdout('');
        const { txids, outputsByType, ...summary } = report;
        // Counts by script type as rows of a headed table, not an object printed inline.
        const byType = Object.entries(outputsByType).map(([type, outputs]) => ({
          type,
          outputs,
        }));
        printResult(out, { ...summary, outputsByType: byType }, false);
        if (txids) {
          io.stdout('txids');
          for (const txid of txids) io.stdout(txid);
        }
      });
    });
}

export interface BlockReport {
  readonly [field: string]: unknown;
  readonly outputsByType: Readonly<Record<string, number>>;
  readonly txids?: readonly string[];
}

export async function inspectBlockFile(file: string, withTxids: boolean): Promise<BlockReport[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new AppError('VALIDATION_FAILED', `file: cannot read "${file}" (${reason})`, {
      issues: [{ field: 'file', message: `cannot read (${reason})` }],
    });
  }
  if (bytes.length === 0)
    throw new AppError('INVALID_BLOCK', `${file} is not a block: the file is empty`);
  if (isBlockFile(bytes)) {
    return readBlockFile(bytes).map((framed, i) =>
      withContext(`block ${i} (at byte ${framed.offset} of the file)`, () =>
        report(parseShaped(framed.bytes, file), withTxids),
      ),
    );
  }
  return decodeBlockInput(bytes).map((raw) => report(parseShaped(raw, file), withTxids));
}

/** Parses a block after checking that the bytes are shaped like one (see notABlock). */
function parseShaped(bytes: Uint8Array, file: string): ParsedBlock {
  const reason = notABlock(bytes);
  if (reason !== null) throw new AppError('INVALID_BLOCK', `${file} is not a block: ${reason}`);
  return parseBlock(bytes);
}

/**
 * Why `bytes` cannot be a block, or null when they may be one (whole or cut short: parsing then
 * says where it stopped). A block is an 80-byte header, a transaction count of at least one and
 * then the coinbase, whose single input spends nothing: a null outpoint of 32 zero bytes and
 * index 0xffffffff (BIP141 may put the segwit marker 00 01 before the input count). Any other
 * file (text, an image, random bytes) fails this within its first 130 bytes, where a truncated
 * block passes as far as it goes.
 */
export function notABlock(bytes: Uint8Array): string | null {
  if (bytes.length < 80) return `${bytes.length} bytes is shorter than a block header (80 bytes)`;
  let pos = 80;
  const first = bytes[pos];
  if (first === undefined) return null;
  if (first === 0) return 'its transaction count is 0';
  pos += first < 0xfd ? 1 : first === 0xfd ? 3 : first === 0xfe ? 5 : 9;
  pos += 4; // the coinbase's version
  if (bytes[pos] === 0 && bytes[pos + 1] === 1) pos += 2; // BIP141 marker and flag
  const expected = [1, ...new Array<number>(32).fill(0), 0xff, 0xff, 0xff, 0xff];
  for (let i = 0; i < expected.length && pos + i < bytes.length; i++) {
    if (bytes[pos + i] !== expected[i]) {
      return i === 0
        ? `its first transaction does not have the one input of a coinbase (byte ${pos})`
        : `its first transaction is not a coinbase (no null outpoint at byte ${pos + 1})`;
    }
  }
  return null;
}

function withContext<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isAppError(error) && error.code === 'INVALID_BLOCK') {
      throw new AppError('INVALID_BLOCK', `${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function report(block: ParsedBlock, withTxids: boolean): BlockReport {
  const byType = Object.fromEntries(
    Object.entries(block.totals.outputsByType).filter(([, count]) => count > 0),
  );
  const witness = block.verifyWitnessCommitment();
  return {
    hash: block.hash,
    previousHash: block.header.previousHash,
    time: new Date(block.header.time * 1000).toISOString(),
    transactions: block.txCount,
    inputs: block.totals.inputs,
    outputs: block.totals.outputs,
    outputsByType: byType,
    totalOutputBtc: formatBtc(block.totals.outputValue),
    size: block.totals.size,
    weight: block.totals.weight,
    merkleRoot: block.verifyMerkleRoot() ? 'valid' : 'invalid',
    witnessCommitment: witness === 'absent' ? 'n/a' : witness,
    ...(withTxids ? { txids: block.txids() } : {}),
  };
}
