import { LocalKeySigner } from '../../bitcoin';
import type { NetworkName } from '../../kernel';

/**
 * The clearing's signer on simnet when no descriptor is configured: the private side of
 * `simnetClearingDescriptor`, from the same fixed, published seed.
 */
export function simnetClearingSigner(): LocalKeySigner {
  return LocalKeySigner.fromSeed(new Uint8Array(32).fill(0xc1), 'regtest');
}

/**
 * The clearing's signer: from its extended private key (CLEARING_SIGNING_KEY), else on simnet
 * the demo key (`demo`), else none (bitcoin pay-outs stay instructed).
 */
export function clearingSigner(
  extendedKey: string | null,
  demo: boolean,
  network: NetworkName,
): LocalKeySigner | null {
  if (extendedKey) return LocalKeySigner.fromExtendedKey(extendedKey, network);
  return demo ? simnetClearingSigner() : null;
}

/**
 * The clearing's deposit descriptor on simnet when none is configured: a key from a fixed,
 * published seed (simnet coins are worthless, as with the demo signer's fixed passphrase).
 */
export function simnetClearingDescriptor(): string {
  const signer = simnetClearingSigner();
  const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
  return `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
}
