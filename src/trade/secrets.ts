import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError, SIMNET_SECRETS_KEY_BASE64, type Config } from '../kernel';

/**
 * Secrets the platform must read back (webhook signing secrets), encrypted at rest with
 * AES-256-GCM (NIST SP 800-38D): a random 96-bit IV per value, the 128-bit tag appended to the
 * ciphertext, and the row the value belongs to as additional authenticated data, so a value
 * copied into another row does not open. Stored as `v1:<base64 IV>:<base64 ciphertext+tag>`.
 */
export const SEALED_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
// 12 bytes are 16 base64 characters without padding; at least a tag after the IV.
const SEALED_PATTERN = /^v1:([A-Za-z0-9+/]{16}):([A-Za-z0-9+/]{22,}={0,2})$/;

/**
 * The key used on CHAIN=simnet when SECRETS_KEY is unset: derived from a public label, so it
 * protects nothing. Simnet is the demo and development chain; every other chain needs
 * SECRETS_KEY to store a secret.
 */
export const SIMNET_SECRETS_KEY: Uint8Array = Buffer.from(SIMNET_SECRETS_KEY_BASE64, 'base64');

/** True when `stored` has the sealed format (anything else is a legacy plain-text value). */
export function isSealed(stored: string): boolean {
  return SEALED_PATTERN.test(stored);
}

export class SecretBox {
  readonly #key: Uint8Array | null;
  /** Why there is no key (names the variable to set), when there is none. */
  readonly #missing: string;

  private constructor(key: Uint8Array | null, missing: string) {
    if (key !== null && key.length !== KEY_BYTES) {
      throw new AppError('CONFIG_INVALID', `the secrets key must be ${KEY_BYTES} bytes`);
    }
    this.#key = key;
    this.#missing = missing;
  }

  static withKey(key: Uint8Array): SecretBox {
    return new SecretBox(key, '');
  }

  /** A box that seals and opens nothing, refusing with `missing` as the reason. */
  static withoutKey(missing: string): SecretBox {
    return new SecretBox(null, missing);
  }

  /**
   * The box the configuration gives: SECRETS_KEY when set; the public development key on
   * simnet; else none (storing a secret is then refused).
   */
  static fromConfig(config: Pick<Config, 'CHAIN' | 'SECRETS_KEY'>): SecretBox {
    if (config.SECRETS_KEY) return SecretBox.withKey(Buffer.from(config.SECRETS_KEY, 'base64'));
    if (config.CHAIN === 'simnet') return SecretBox.withKey(SIMNET_SECRETS_KEY);
    return SecretBox.withoutKey(
      `SECRETS_KEY is not configured: set it to 32 random bytes in base64 (e.g. \`openssl rand -base64 32\`) to store secrets on CHAIN=${config.CHAIN}`,
    );
  }

  get hasKey(): boolean {
    return this.#key !== null;
  }

  /** Encrypts `plaintext` bound to `context` (the row it is stored in). */
  seal(plaintext: string, context: string): string {
    const key = this.#requireKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${SEALED_VERSION}:${iv.toString('base64')}:${body.toString('base64')}`;
  }

  /**
   * Decrypts a sealed value stored under `context`. A wrong key, an altered value or one copied
   * from another row fails the tag check: CONFIG_INVALID, never garbage.
   */
  open(sealed: string, context: string): string {
    const key = this.#requireKey();
    const match = SEALED_PATTERN.exec(sealed);
    const body = match ? Buffer.from(match[2]!, 'base64') : null;
    if (!match || !body || body.length < TAG_BYTES) {
      throw new AppError('CONFIG_INVALID', `the secret stored for ${context} is not a v1 value`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(match[1]!, 'base64'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new AppError(
        'CONFIG_INVALID',
        `the secret stored for ${context} does not decrypt with the configured SECRETS_KEY: ` +
          'it was sealed with another key, altered, or copied from another row',
      );
    }
  }

  #requireKey(): Uint8Array {
    if (this.#key === null) throw new AppError('CONFIG_INVALID', this.#missing);
    return this.#key;
  }
}
