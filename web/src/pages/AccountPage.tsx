import type { ReactNode } from 'react';
import { Badge, Paper, Table } from '@mantine/core';
import { Page } from '../components/Page';
import { ROLE_LABELS, useUser } from '../session';

export function AccountPage() {
  const user = useUser();
  const rows: [string, ReactNode][] = [
    ['Name', user.displayName],
    ['Username', user.username],
    ['Role', ROLE_LABELS[user.role]],
    ['Participant', <code key="p">{user.participantId}</code>],
    ['Platform', user.platformId ? <code key="pl">{user.platformId}</code> : '—'],
    [
      'Second factor',
      user.totpEnabled ? (
        <Badge color="teal">Authenticator app</Badge>
      ) : (
        <Badge color="gray">Not enabled</Badge>
      ),
    ],
  ];
  return (
    <Page title="My account" description="Who you are logged in as in this scheme.">
      <Paper withBorder p="md" maw={600}>
        <Table>
          <Table.Tbody>
            {rows.map(([label, value]) => (
              <Table.Tr key={label}>
                <Table.Th scope="row" w={160}>
                  {label}
                </Table.Th>
                <Table.Td>{value}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Paper>
    </Page>
  );
}
