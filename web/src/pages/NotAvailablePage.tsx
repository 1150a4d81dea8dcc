import { Link } from 'react-router';
import { Anchor, Text } from '@mantine/core';
import { Page } from '../components/Page';
import { ROLE_LABELS, useSession } from '../session';

/** What a direct URL to another role's screen shows (the server would refuse its data too). */
export function NotAvailablePage({ screen }: { screen: string }) {
  const { user } = useSession();
  return (
    <Page title="Not available for your role">
      <Text data-testid="not-available">
        {screen} is not available for your role
        {user ? ` (${ROLE_LABELS[user.role]})` : ''}.
      </Text>
      <Anchor component={Link} to="/">
        Back to the overview
      </Anchor>
    </Page>
  );
}

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <Text>There is no page at this address.</Text>
      <Anchor component={Link} to="/">
        Back to the overview
      </Anchor>
    </Page>
  );
}
