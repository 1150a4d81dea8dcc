import { Navigate, Route, Routes, useLocation } from 'react-router';
import { Center } from '@mantine/core';
import { SessionProvider, useSession } from './session';
import { LiveProvider } from './live';
import { Layout } from './Layout';
import { SCREENS } from './screens';
import { LoginPage } from './pages/LoginPage';
import { NotAvailablePage, NotFoundPage } from './pages/NotAvailablePage';
import { ErrorState, Loading } from './components/States';
import { legacyFocusRedirect } from './api/focus';

function Guarded({ screen }: { screen: (typeof SCREENS)[number] }) {
  const { user } = useSession();
  const location = useLocation();
  // An old link (`?participant=`, `?batch=`, …) goes to the same item under `?id=`.
  const current = legacyFocusRedirect(location.pathname, location.search);
  if (current) return <Navigate to={current} replace />;
  if (!user || !screen.roles.includes(user.role)) return <NotAvailablePage screen={screen.label} />;
  const Component = screen.component;
  return <Component />;
}

function Authenticated() {
  const { user, loading, error } = useSession();
  if (loading) return <Loading label="Opening your session…" />;
  if (error)
    return (
      <Center p="xl">
        <ErrorState error={error} onRetry={() => window.location.reload()} />
      </Center>
    );
  if (!user) return <LoginPage />;
  return (
    <LiveProvider>
      <Layout>
        <Routes>
          {SCREENS.map((screen) => (
            <Route key={screen.path} path={screen.path} element={<Guarded screen={screen} />} />
          ))}
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </Layout>
    </LiveProvider>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Authenticated />
    </SessionProvider>
  );
}
