export { SealedKeySignerProvider, sealSeed, openSeed, SCRYPT_N } from './encrypted-key';
export type { SealedSeed, SignerProvider } from './encrypted-key';
