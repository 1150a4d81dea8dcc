import { Address, OutScript } from '@scure/btc-signer';
import { AppError, type NetworkName } from '../../kernel';
import { toHex, Writer } from '../../bitcoin';

/** Output script templates, named as Bitcoin Core's `scriptPubKey.type` (script/solver.cpp). */
export type OutputType =
  | 'pubkey'
  | 'pubkeyhash'
  | 'scripthash'
  | 'multisig'
  | 'nulldata'
  | 'witness_v0_keyhash'
  | 'witness_v0_scripthash'
  | 'witness_v1_taproot'
  | 'anchor'
  | 'witness_unknown'
  | 'nonstandard';

export const OP_0 = 0x00;
export const OP_PUSHDATA1 = 0x4c;
export const OP_PUSHDATA2 = 0x4d;
export const OP_1 = 0x51;
export const OP_16 = 0x60;
export const OP_RETURN = 0x6a;
export const OP_CHECKSIG = 0xac;
export const OP_CHECKMULTISIG = 0xae;

/** BIP141 witness program: a version opcode then one push of 2 to 40 bytes. */
export function witnessProgram(
  script: Uint8Array,
): { version: number; program: Uint8Array } | null {
  if (script.length < 4 || script.length > 42) return null;
  const op = script[0]!;
  if (op !== OP_0 && (op < OP_1 || op > OP_16)) return null;
  if (script[1]! + 2 !== script.length) return null;
  return { version: op === OP_0 ? 0 : op - OP_1 + 1, program: script.subarray(2) };
}

export function classifyOutput(script: Uint8Array): OutputType {
  const n = script.length;
  if (
    n === 25 &&
    script[0] === 0x76 &&
    script[1] === 0xa9 &&
    script[2] === 0x14 &&
    script[23] === 0x88 &&
    script[24] === OP_CHECKSIG
  )
    return 'pubkeyhash';
  if (n === 23 && script[0] === 0xa9 && script[1] === 0x14 && script[22] === 0x87)
    return 'scripthash';
  const witness = witnessProgram(script);
  if (witness) {
    if (witness.version === 0 && witness.program.length === 20) return 'witness_v0_keyhash';
    if (witness.version === 0 && witness.program.length === 32) return 'witness_v0_scripthash';
    if (witness.version === 1 && witness.program.length === 32) return 'witness_v1_taproot';
    // Bitcoin Core 28: pay-to-anchor, OP_1 <0x4e73>.
    if (witness.version === 1 && n === 4 && script[2] === 0x4e && script[3] === 0x73)
      return 'anchor';
    if (witness.version !== 0) return 'witness_unknown';
    return 'nonstandard';
  }
  if (n > 0 && script[0] === OP_RETURN && isPushOnly(script.subarray(1))) return 'nulldata';
  if ((n === 35 && script[0] === 33) || (n === 67 && script[0] === 65)) {
    if (script[n - 1] === OP_CHECKSIG) return 'pubkey';
  }
  if (parseMultisig(script)) return 'multisig';
  return 'nonstandard';
}

export interface ScriptOp {
  readonly opcode: number;
  readonly data?: Uint8Array;
}

/** Splits a script into opcodes and pushes; null when a push runs past the end. */
export function decodeScript(script: Uint8Array): ScriptOp[] | null {
  const ops: ScriptOp[] = [];
  let i = 0;
  while (i < script.length) {
    const opcode = script[i++]!;
    let length = -1;
    if (opcode >= 1 && opcode < OP_PUSHDATA1) length = opcode;
    else if (opcode === OP_PUSHDATA1) {
      if (i + 1 > script.length) return null;
      length = script[i]!;
      i += 1;
    } else if (opcode === OP_PUSHDATA2) {
      if (i + 2 > script.length) return null;
      length = script[i]! | (script[i + 1]! << 8);
      i += 2;
    } else if (opcode === 0x4e) {
      if (i + 4 > script.length) return null;
      length =
        (script[i]! | (script[i + 1]! << 8) | (script[i + 2]! << 16) | (script[i + 3]! << 24)) >>>
        0;
      i += 4;
    }
    if (length >= 0) {
      if (i + length > script.length) return null;
      ops.push({ opcode, data: script.subarray(i, i + length) });
      i += length;
    } else {
      ops.push({ opcode });
    }
  }
  return ops;
}

function isPushOnly(script: Uint8Array): boolean {
  const ops = decodeScript(script);
  return ops !== null && ops.every((op) => op.opcode <= OP_16);
}

/** `OP_m <pubkey>… OP_n OP_CHECKMULTISIG`, the template Bitcoin Core's solver calls multisig. */
export function parseMultisig(script: Uint8Array): { m: number; pubkeys: Uint8Array[] } | null {
  const ops = decodeScript(script);
  if (!ops || ops.length < 4) return null;
  const first = ops[0]!;
  const last = ops[ops.length - 1]!;
  const nOp = ops[ops.length - 2]!;
  if (last.opcode !== OP_CHECKMULTISIG) return null;
  if (first.opcode < OP_1 || first.opcode > OP_16 || nOp.opcode < OP_1 || nOp.opcode > OP_16)
    return null;
  const m = first.opcode - OP_1 + 1;
  const n = nOp.opcode - OP_1 + 1;
  const keys = ops.slice(1, -2);
  if (keys.length !== n || m > n) return null;
  const pubkeys: Uint8Array[] = [];
  for (const key of keys) {
    if (!key.data || (key.data.length !== 33 && key.data.length !== 65)) return null;
    pubkeys.push(key.data);
  }
  return { m, pubkeys };
}

/** Minimal push of a script number (CScript::operator<<(int64_t)): OP_0, OP_1…OP_16, else bytes. */
export function pushNumber(value: number): Uint8Array {
  if (value === 0) return Uint8Array.of(OP_0);
  if (value >= 1 && value <= 16) return Uint8Array.of(OP_1 + value - 1);
  const bytes = scriptNum(value);
  return Uint8Array.of(bytes.length, ...bytes);
}

/** CScriptNum serialization: little-endian, minimal, sign in the top bit of the last byte. */
export function scriptNum(value: number): Uint8Array {
  if (value === 0) return new Uint8Array(0);
  const negative = value < 0;
  let abs = Math.abs(value);
  const out: number[] = [];
  while (abs > 0) {
    out.push(abs & 0xff);
    abs = Math.floor(abs / 256);
  }
  if (out[out.length - 1]! & 0x80) out.push(negative ? 0x80 : 0);
  else if (negative) out[out.length - 1]! |= 0x80;
  return Uint8Array.from(out);
}

export function pushData(data: Uint8Array): Uint8Array {
  const writer = new Writer();
  if (data.length < OP_PUSHDATA1) writer.u8(data.length);
  else if (data.length <= 0xff) writer.u8(OP_PUSHDATA1).u8(data.length);
  else
    writer
      .u8(OP_PUSHDATA2)
      .u8(data.length & 0xff)
      .u8(data.length >> 8);
  return writer.bytes(data).finish();
}

const OPCODE_NAMES: Record<number, string> = {
  0x4f: '-1',
  0x61: 'OP_NOP',
  0x63: 'OP_IF',
  0x64: 'OP_NOTIF',
  0x67: 'OP_ELSE',
  0x68: 'OP_ENDIF',
  0x69: 'OP_VERIFY',
  0x6a: 'OP_RETURN',
  0x75: 'OP_DROP',
  0x76: 'OP_DUP',
  0x7c: 'OP_SWAP',
  0x82: 'OP_SIZE',
  0x87: 'OP_EQUAL',
  0x88: 'OP_EQUALVERIFY',
  0xa6: 'OP_RIPEMD160',
  0xa8: 'OP_SHA256',
  0xa9: 'OP_HASH160',
  0xaa: 'OP_HASH256',
  0xab: 'OP_CODESEPARATOR',
  0xac: 'OP_CHECKSIG',
  0xad: 'OP_CHECKSIGVERIFY',
  0xae: 'OP_CHECKMULTISIG',
  0xaf: 'OP_CHECKMULTISIGVERIFY',
  0xb1: 'OP_CHECKLOCKTIMEVERIFY',
  0xb2: 'OP_CHECKSEQUENCEVERIFY',
  0xba: 'OP_CHECKSIGADD',
};

/**
 * Bitcoin Core's ScriptToAsmStr: small numbers as decimals (pushes of at most 4 bytes as
 * script numbers), other pushes as hex, opcodes by name.
 */
export function scriptToAsm(script: Uint8Array): string {
  const ops = decodeScript(script);
  if (!ops) return '[error]';
  return ops
    .map((op) => {
      if (op.data) {
        if (op.data.length <= 4) return String(decodeScriptNum(op.data));
        return toHex(op.data);
      }
      if (op.opcode === OP_0) return '0';
      if (op.opcode >= OP_1 && op.opcode <= OP_16) return String(op.opcode - OP_1 + 1);
      return OPCODE_NAMES[op.opcode] ?? `OP_UNKNOWN(0x${op.opcode.toString(16)})`;
    })
    .join(' ');
}

function decodeScriptNum(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let value = 0;
  for (let i = 0; i < bytes.length; i++) value += bytes[i]! * 2 ** (8 * i);
  const top = bytes[bytes.length - 1]!;
  if (top & 0x80) return -(value - 0x80 * 2 ** (8 * (bytes.length - 1)));
  return value;
}

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const TESTNET = { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const MAINNET = { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 };

function networkParams(network: NetworkName) {
  return network === 'regtest' ? REGTEST : network === 'mainnet' ? MAINNET : TESTNET;
}

/** The address an output script pays, or undefined (nulldata, bare multisig, nonstandard). */
export function scriptToAddress(script: Uint8Array, network: NetworkName): string | undefined {
  const type = classifyOutput(script);
  if (type === 'nulldata' || type === 'multisig' || type === 'pubkey' || type === 'nonstandard')
    return undefined;
  try {
    return Address(networkParams(network)).encode(OutScript.decode(script));
  } catch {
    return undefined;
  }
}

/** The output script for an address of `network`; throws INVALID_ADDRESS. */
export function addressToScript(address: string, network: NetworkName): Uint8Array {
  try {
    return OutScript.encode(Address(networkParams(network)).decode(address));
  } catch (cause) {
    throw new AppError(
      'INVALID_ADDRESS',
      `address "${address}" is not a valid ${network} address`,
      {
        cause,
        issues: [{ field: 'address', message: 'not a valid address for this network' }],
      },
    );
  }
}
