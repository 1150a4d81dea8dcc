import type { ReactNode } from 'react';
import { NavLink as RouterNavLink, useLocation } from 'react-router';
import {
  ActionIcon,
  AppShell,
  Badge,
  Burger,
  Button,
  Group,
  NavLink,
  Stack,
  Text,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { api } from './api/client';
import { ROLE_LABELS, useUser, useSession } from './session';
import { useLive, type LiveStatus } from './live';
import { screensFor, type Screen } from './screens';

const LIVE_BADGE: Record<LiveStatus, { label: string; color: string; title: string }> = {
  connecting: { label: 'Connecting', color: 'gray', title: 'Connecting to live updates' },
  live: { label: 'Live', color: 'teal', title: 'Changes in your scope appear as they happen' },
  offline: {
    label: 'Offline',
    color: 'red',
    title: 'Live updates failed; retrying. Reload to see the latest data.',
  },
};

export function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to ${next} theme`}>
      <ActionIcon
        variant="default"
        size="lg"
        aria-label={`Switch to ${next} theme`}
        onClick={() => setColorScheme(next)}
      >
        <span aria-hidden>{scheme === 'dark' ? '☀' : '☾'}</span>
      </ActionIcon>
    </Tooltip>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const user = useUser();
  const { setUser } = useSession();
  const live = useLive();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const screens = screensFor(user.role);
  const sections = [...new Set(screens.map((s) => s.section))];

  const logout = async () => {
    await api.DELETE('/v1/session');
    setUser(null);
  };

  const link = (screen: Screen) => (
    <NavLink
      key={screen.path}
      component={RouterNavLink}
      to={screen.path}
      label={screen.label}
      active={
        screen.path === '/' ? location.pathname === '/' : location.pathname.startsWith(screen.path)
      }
      onClick={close}
    />
  );

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Text fw={800} size="lg">
              Tradeclear
            </Text>
            <Badge
              variant="light"
              color={LIVE_BADGE[live.status].color}
              data-testid="live-badge"
              data-status={live.status}
              title={LIVE_BADGE[live.status].title}
            >
              {LIVE_BADGE[live.status].label}
            </Badge>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Stack gap={0} visibleFrom="sm" align="flex-end">
              <Text size="sm" fw={600} data-testid="current-user">
                {user.displayName}
              </Text>
              <Text size="xs">{ROLE_LABELS[user.role]}</Text>
            </Stack>
            <ThemeToggle />
            <Button variant="default" onClick={() => void logout()}>
              Log out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation" style={{ overflowY: 'auto' }}>
        {sections.map((section) => (
          <div key={section}>
            <Text size="xs" fw={700} tt="uppercase" px="sm" pt="sm" pb={4}>
              {section}
            </Text>
            {screens.filter((s) => s.section === section).map(link)}
          </div>
        ))}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
