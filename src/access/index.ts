export { KeyService, SCHEME_PARTICIPANT_ID, keyCreationRefusal } from './keys';
export { KeyCache, KEY_CACHE_MS } from './key-cache';
export type { VerifiedKey } from './key-cache';
export type {
  ApiKeyView,
  CreatedApiKey,
  KeyHolder,
  KeyRequest,
  KeyServiceDeps,
  ParticipantLookup,
  RegisteredParticipant,
} from './keys';

export { UserService, hashPassword, verifyPassword } from './users';
export type { UserView } from './users';
