import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { LocalKeySigner, type Signer } from '../../bitcoin';
import type { Database, Orm } from '../../db';
import { AppError, type Clock, type NetworkName } from '../../kernel';
import { tradeSignerKeys } from '../schema';

/**
 * A platform's local signing seed, encrypted at rest: the key is derived from a passphrase with
 * scrypt (RFC 7914; N = 2^15, r = 8, p = 1) and the seed sealed with AES-256-GCM (NIST SP 800-38D:
 * 96-bit random IV, 128-bit tag), so a copy of the database alone reveals nothing. For simnet and
 * demos; production keys stay in an external signer.
 */
export const SCRYPT_N = 1 << 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;

export interface SealedSeed {
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
  readonly scryptN: number;
}

function deriveKey(passphrase: string, salt: Uint8Array, n: number): Buffer {
  if (passphrase.length < 12) {
    throw new AppError('CONFIG_INVALID', 'the signer passphrase must be at least 12 characters');
  }
  return scryptSync(passphrase, salt, 32, {
    N: n,
    r: SCRYPT_R,
    p: SCRYPT_P,
    maxmem: 256 * n * SCRYPT_R,
  });
}

export function sealSeed(seed: Uint8Array, passphrase: string, scryptN = SCRYPT_N): SealedSeed {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, scryptN), iv);
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  return {
    salt: salt.toString('hex'),
    iv: iv.toString('hex'),
    tag: cipher.getAuthTag().toString('hex'),
    ciphertext: ciphertext.toString('hex'),
    scryptN,
  };
}

export function openSeed(sealed: SealedSeed, passphrase: string): Uint8Array {
  const key = deriveKey(passphrase, Buffer.from(sealed.salt, 'hex'), sealed.scryptN);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'hex'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'hex'));
  try {
    return new Uint8Array(
      Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'hex')), decipher.final()]),
    );
  } catch (cause) {
    throw new AppError('FORBIDDEN', 'the signer passphrase does not open the stored key', {
      cause,
    });
  }
}

/**
 * Where a platform's signer comes from: a local sealed key, or none (an external signer). Read in
 * the caller's unit of work (the pool outside one).
 */
export interface SignerProvider {
  signerFor(platformId: string): Promise<Signer | null>;
}

/** Local keys sealed in trade_signer_keys, opened with a passphrase from the PassphraseSource port. */
export class SealedKeySignerProvider implements SignerProvider {
  constructor(
    readonly passphrase: () => string | null,
    readonly clock: Clock,
    readonly db: Database,
  ) {}

  async store(
    tx: Orm,
    platformId: string,
    seed: Uint8Array,
    network: NetworkName,
    scryptN = SCRYPT_N,
  ): Promise<LocalKeySigner> {
    const passphrase = this.passphrase();
    if (!passphrase) throw new AppError('CONFIG_INVALID', 'no signer passphrase is configured');
    const sealed = sealSeed(seed, passphrase, scryptN);
    const row = { platformId, ...sealed, network, createdAt: this.clock.now() };
    await tx
      .insert(tradeSignerKeys)
      .values(row)
      .onConflictDoUpdate({ target: tradeSignerKeys.platformId, set: row });
    return LocalKeySigner.fromSeed(seed, network);
  }

  async signerFor(platformId: string): Promise<Signer | null> {
    const [row] = await this.db
      .current()
      .select()
      .from(tradeSignerKeys)
      .where(eq(tradeSignerKeys.platformId, platformId));
    if (!row) return null;
    const passphrase = this.passphrase();
    if (!passphrase) return null;
    const network = row.network as NetworkName;
    return LocalKeySigner.fromSeed(openSeed(row, passphrase), network);
  }
}
