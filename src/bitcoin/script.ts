/**
 * Output script classification by template (Bitcoin Core's Solver, script/solver.cpp). Works on
 * a byte range of a larger buffer so the block codec can classify without copying.
 */
export const SCRIPT_TYPES = [
  'p2pkh',
  'p2sh',
  'p2wpkh',
  'p2wsh',
  'p2tr',
  'op_return',
  'multisig',
  'p2pk',
  'nonstandard',
] as const;
export type ScriptType = (typeof SCRIPT_TYPES)[number];

/** Index into SCRIPT_TYPES; the codec stores these in a Uint8Array. */
export const SCRIPT_TYPE_CODE: Readonly<Record<ScriptType, number>> = Object.fromEntries(
  SCRIPT_TYPES.map((type, index) => [type, index]),
) as Record<ScriptType, number>;

const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_RETURN = 0x6a;
const OP_DUP = 0x76;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_HASH160 = 0xa9;
const OP_CHECKSIG = 0xac;
const OP_CHECKMULTISIG = 0xae;

export function scriptType(script: Uint8Array): ScriptType {
  return SCRIPT_TYPES[classifyScript(script, 0, script.length)] ?? 'nonstandard';
}

/** Classifies script[start, end) and returns its SCRIPT_TYPES index. */
export function classifyScript(script: Uint8Array, start: number, end: number): number {
  const length = end - start;
  const first = script[start];
  if (
    length === 25 &&
    first === OP_DUP &&
    script[start + 1] === OP_HASH160 &&
    script[start + 2] === 20 &&
    script[start + 23] === OP_EQUALVERIFY &&
    script[start + 24] === OP_CHECKSIG
  ) {
    return 0;
  }
  if (
    length === 23 &&
    first === OP_HASH160 &&
    script[start + 1] === 20 &&
    script[start + 22] === OP_EQUAL
  ) {
    return 1;
  }
  if (length === 22 && first === OP_0 && script[start + 1] === 20) return 2;
  if (length === 34 && first === OP_0 && script[start + 1] === 32) return 3;
  if (length === 34 && first === OP_1 && script[start + 1] === 32) return 4;
  // Bitcoin Core treats any script starting with OP_RETURN as provably unspendable data.
  if (length >= 1 && first === OP_RETURN) return 5;
  if (isMultisig(script, start, end)) return 6;
  if (
    ((length === 35 && first === 33) || (length === 67 && first === 65)) &&
    script[end - 1] === OP_CHECKSIG
  ) {
    return 7;
  }
  return 8;
}

/** OP_m <pubkey>… OP_n OP_CHECKMULTISIG with 1 ≤ m ≤ n ≤ 16 and 33/65-byte keys. */
function isMultisig(script: Uint8Array, start: number, end: number): boolean {
  if (end - start < 37) return false;
  const first = script[start] ?? 0;
  const last = script[end - 2] ?? 0;
  if (script[end - 1] !== OP_CHECKMULTISIG) return false;
  if (first < OP_1 || first > OP_16 || last < OP_1 || last > OP_16) return false;
  const required = first - OP_1 + 1;
  const total = last - OP_1 + 1;
  if (required > total) return false;
  let offset = start + 1;
  let keys = 0;
  while (offset < end - 2) {
    const push = script[offset] ?? 0;
    if (push !== 33 && push !== 65) return false;
    offset += 1 + push;
    keys++;
  }
  return offset === end - 2 && keys === total;
}
