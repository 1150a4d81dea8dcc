import type { ReactNode } from 'react';
import { Grid, Paper, Text, Title } from '@mantine/core';

/** One chart of the dashboard: a titled panel with a hint on what a click does. */
export function ChartPanel({
  title,
  hint,
  span = 6,
  testId,
  children,
}: {
  title: string;
  hint: string;
  /** Columns of 12 it takes on a large screen (a small screen gives every panel the width). */
  span?: number;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <Grid.Col span={{ base: 12, lg: span }}>
      <Paper withBorder p="md" h="100%" data-testid={testId}>
        <Title order={2} size="h4">
          {title}
        </Title>
        <Text size="sm" mb="xs">
          {hint}
        </Text>
        {children}
      </Paper>
    </Grid.Col>
  );
}
