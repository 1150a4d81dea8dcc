import type { ReactNode } from 'react';
import { Badge, Paper, Table } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { NameCell } from '../components/NameCell';
import { Page } from '../components/Page';
import { ROLE_LABELS, useUser } from '../session';

export function AccountPage() {
  const user = useUser();
  // The names of the caller's participant and platform (the scheme's roles have neither).
  const self = useQuery({
    queryKey: ['participant', 'self', user.participantId],
    enabled: user.participantId.startsWith('par_'),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/participants/{id}', { params: { path: { id: user.participantId } } }),
      ),
  });
  const rows: [string, ReactNode][] = [
    ['Name', user.displayName],
    ['Username', user.username],
    ['Role', ROLE_LABELS[user.role]],
    ['Participant', <NameCell key="p" name={self.data?.legalName} id={user.participantId} />],
    [
      'Platform',
      user.platformId ? (
        <NameCell
          key="pl"
          name={
            user.platformId === user.participantId ? self.data?.legalName : self.data?.platformName
          }
          id={user.platformId}
        />
      ) : (
        '—'
      ),
    ],
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
