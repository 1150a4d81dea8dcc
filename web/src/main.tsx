import '@mantine/core/styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import {
  MantineProvider,
  createTheme,
  localStorageColorSchemeManager,
  type CSSVariablesResolver,
} from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { App } from './App';

const theme = createTheme({
  primaryColor: 'indigo',
  // Darker shade in light mode so white text on primary buttons meets WCAG AA contrast.
  primaryShade: { light: 7, dark: 5 },
  // Filled badges and buttons pick dark or light text by their background (yellow needs dark).
  autoContrast: true,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  components: {
    // A badge is a state ("ACTIVE", "AWAITINGAPPROVAL"): upper case made them wider than their
    // cells, which cut them to "AC…". Written as is, and never shrunk below its text.
    Badge: {
      defaultProps: { tt: 'none' },
      styles: {
        root: { flexShrink: 0, maxWidth: 'none', overflow: 'visible' },
        label: { overflow: 'visible', textOverflow: 'clip' },
      },
    },
  },
});

// Mantine's default dimmed grey (#868e96) is 3.3:1 on white; WCAG 2.1 AA (1.4.3) wants 4.5:1.
// The same holds for "light" badges and buttons (shade 6 text on shade 1): use shade 9 on shade 0,
// and dark text on the yellows, whose shade 9 is still too light.
const cssVariablesResolver: CSSVariablesResolver = (resolved) => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-placeholder': 'var(--mantine-color-gray-7)',
    // Field errors: red.6 (#fa5252) is 3.3:1 on white; red.9 (#c92a2a) is 5.6:1.
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    // Filled red (buttons, outcome badges) with white text: the primary shade red.7 (#f03e3e) is
    // 3.8:1, red.9 is 5.6:1; the hover goes darker still.
    '--mantine-color-red-filled': 'var(--mantine-color-red-9)',
    '--mantine-color-red-filled-hover': 'color-mix(in srgb, var(--mantine-color-red-9), black 15%)',
    ...Object.fromEntries(
      Object.keys(resolved.colors).flatMap((color) => [
        [`--mantine-color-${color}-light`, `var(--mantine-color-${color}-0)`],
        [`--mantine-color-${color}-light-hover`, `var(--mantine-color-${color}-1)`],
        [
          `--mantine-color-${color}-light-color`,
          ['yellow', 'orange', 'lime'].includes(color)
            ? 'var(--mantine-color-dark-7)'
            : // green.9 on green.0 is 4.06:1 and teal.9 about the same: a fifth darker passes.
              ['green', 'teal'].includes(color)
              ? `color-mix(in srgb, var(--mantine-color-${color}-9), black 20%)`
              : `var(--mantine-color-${color}-9)`,
        ],
      ]),
    ),
  },
  dark: { '--mantine-color-dimmed': 'var(--mantine-color-dark-1)' },
});

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A 4xx will not improve by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      cssVariablesResolver={cssVariablesResolver}
      defaultColorScheme="light"
      colorSchemeManager={localStorageColorSchemeManager({ key: 'tradeclear-color-scheme' })}
    >
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
