import { createContext, useContext, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from './api/client';
import type { components } from './api/schema';

export type User = components['schemas']['User'];
export type Role = User['role'];

interface SessionState {
  user: User | null;
  loading: boolean;
  error: Error | null;
  setUser: (user: User | null) => void;
}

const SessionContext = createContext<SessionState | null>(null);

export const SESSION_KEY = ['session'] as const;

/** The logged-in user from `GET /v1/session`; a 401 means nobody is logged in. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: SESSION_KEY,
    queryFn: async () => {
      try {
        return unwrap(await api.GET('/v1/session')).user;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
  const state: SessionState = {
    user: query.data ?? null,
    loading: query.isPending,
    error: query.error,
    setUser: (user) => {
      queryClient.setQueryData(SESSION_KEY, user);
      // Nothing of one user's data may remain in the cache for the next one.
      if (user === null)
        queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== SESSION_KEY[0] });
    },
  };
  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession must be used inside SessionProvider');
  return state;
}

/** The logged-in user, for pages that render only behind the login. */
export function useUser(): User {
  const { user } = useSession();
  if (!user) throw new Error('useUser needs a logged-in user');
  return user;
}

export const ROLE_LABELS: Record<Role, string> = {
  supervisor: 'Supervisor',
  platform: 'Platform officer',
  company: 'Company',
  miner: 'Miner',
  auditor: 'Auditor',
};
