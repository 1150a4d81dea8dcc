export { KeyService, SCHEME_PARTICIPANT_ID } from './keys';
export type { ApiKeyView, CreatedApiKey, KeyServiceDeps } from './keys';

export { UserService, hashPassword, verifyPassword } from './users';
export type { UserView } from './users';
export { users, sessions } from './schema';
export { apiKeys } from './schema';
