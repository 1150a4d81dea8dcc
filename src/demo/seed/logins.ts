import { SCHEME_PARTICIPANT_ID, type UserService } from '../../access';
import type { Caller, Role } from '../../kernel';
import { MINERS } from '../cast';
import { SUPERVISOR, type DemoLogin, type Scheme } from './types';

/**
 * Demo logins. The passwords are printed at every start of a demo scheme: they exist only in a
 * demo database (`up --no-demo` never creates them).
 */
export const DEMO_LOGINS: readonly { role: Role; username: string; password: string }[] = [
  { role: 'supervisor', username: 'supervisor', password: 'demo-supervisor-pass' },
  { role: 'platform', username: 'platform', password: 'demo-platform-pass' },
  // A second officer of the same platform: the checker of the maker-checker approval of payouts.
  { role: 'platform', username: 'platform2', password: 'demo-platform2-pass' },
  { role: 'company', username: 'company', password: 'demo-company-pass' },
  { role: 'miner', username: 'miner', password: 'demo-miner-pass' },
  { role: 'auditor', username: 'auditor', password: 'demo-auditor-pass' },
];

/**
 * Creates one user per demo login, each a person of the first platform, company or miner of its
 * role (the supervisor and the auditor are the scheme's); returns the logins as printed and each
 * user as a caller, by username.
 */
export async function createLogins(
  users: UserService,
  scheme: Scheme,
): Promise<{ logins: DemoLogin[]; callers: Map<string, Caller> }> {
  const platform = scheme.platforms[0]!;
  const company = scheme.companies[0]!;
  const targets: Record<Role, { participantId: string; platformId: string | null; who: string }> = {
    supervisor: { participantId: SCHEME_PARTICIPANT_ID, platformId: null, who: 'the supervisor' },
    auditor: { participantId: SCHEME_PARTICIPANT_ID, platformId: null, who: 'the auditor' },
    platform: { participantId: platform.id, platformId: platform.id, who: platform.name },
    company: { participantId: company.id, platformId: company.platform.id, who: company.name },
    miner: { participantId: scheme.miners[0]!.id, platformId: null, who: MINERS[0].name },
  };
  const logins: DemoLogin[] = [];
  const callers = new Map<string, Caller>();
  for (const login of DEMO_LOGINS) {
    const target = targets[login.role];
    const user = await users.create(SUPERVISOR, {
      username: login.username,
      displayName: `Demo ${login.role}${login.username === login.role ? '' : ', second officer'} (${target.who})`,
      password: login.password,
      role: login.role,
      participantId: target.participantId,
      platformId: target.platformId,
    });
    logins.push({ ...login, who: target.who });
    callers.set(login.username, {
      role: login.role,
      participantId: user.participantId,
      platformId: user.platformId,
      actorId: user.id,
      personId: user.id,
      requestId: null,
    });
  }
  return { logins, callers };
}
