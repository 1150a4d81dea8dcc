import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';

/** One server-sent event from `GET /v1/events` (see src/http/events.ts). */
export interface LiveEvent {
  topic: string;
  at: string;
  participantId: string | null;
  platformId: string | null;
  payload: Record<string, unknown>;
}

/**
 * `connecting` until the stream first opens (a page load is not a failure), `live` while open,
 * `offline` after an error (the browser keeps retrying; the next open makes it `live` again).
 */
export type LiveStatus = 'connecting' | 'live' | 'offline';

interface LiveState {
  connected: boolean;
  status: LiveStatus;
  recent: LiveEvent[];
}

const LiveContext = createContext<LiveState>({
  connected: false,
  status: 'connecting',
  recent: [],
});
const KEEP = 50;

/**
 * Subscribes to the server's live events while someone is logged in and refetches the queries
 * an event touches: query keys start with the entity type they list (`['invoice', …]`), so an
 * audit event for `invoice` refreshes every invoice view, without a reload.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>({
    connected: false,
    status: 'connecting',
    recent: [],
  });

  useEffect(() => {
    const source = new EventSource('/v1/events');
    const onEvent = (message: MessageEvent<string>) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(message.data) as LiveEvent;
      } catch {
        return;
      }
      const entityType = event.payload.entityType;
      void queryClient.invalidateQueries({
        predicate: (query) =>
          query.queryKey[0] === event.topic ||
          query.queryKey[0] === 'audit' ||
          (typeof entityType === 'string' && query.queryKey[0] === entityType),
      });
      setState((previous) => ({ ...previous, recent: [event, ...previous.recent].slice(0, KEEP) }));
    };
    source.addEventListener('audit', onEvent);
    source.onopen = () =>
      setState((previous) => ({ ...previous, connected: true, status: 'live' }));
    source.onerror = () =>
      setState((previous) => ({ ...previous, connected: false, status: 'offline' }));
    return () => source.close();
  }, [queryClient]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveState {
  return useContext(LiveContext);
}
