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
        printResult(out, reports.length === 1 ? (reports[0] ?? {}) : { blocks: reports }, true);
        return;
      }
      reports.forEach((report, i) => {
        if (i > 0) io.stdout('');
        const { txids, ...summary } = report;
        printResult(out, summary, false);
        if (Array.isArray(txids)) for (const txid of txids) io.stdout(String(txid));
      });
    });
}

export type BlockReport = Record<string, unknown>;

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
  if (bytes.length === 0) throw new AppError('INVALID_BLOCK', `${file} is empty`);
  if (isBlockFile(bytes)) {
    return readBlockFile(bytes).map((framed, i) =>
      withContext(`block ${i} (at byte ${framed.offset} of the file)`, () =>
        report(parseBlock(framed.bytes), withTxids),
      ),
    );
  }
  return decodeBlockInput(bytes).map((raw) => report(parseBlock(raw), withTxids));
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
