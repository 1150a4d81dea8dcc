import { useState } from 'react';
import { Button, Code } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { DataTable } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { formatDateTime } from '../../format';

export function ListsPage() {
  const [all, setAll] = useState(false);
  const lists = useQuery({
    queryKey: ['listSnapshot', all],
    queryFn: async () =>
      unwrap(await api.GET('/v1/lists', { params: { query: all ? { all: 'true' as const } : {} } }))
        .snapshots,
  });
  const rows = lists.data;
  return (
    <Page
      title="Sanctions list snapshots"
      description="Imported list snapshots; decisions name the snapshots they used."
    >
      <DataTable
        caption="List snapshots"
        rows={rows}
        rowKey={(s) => s.id}
        loading={lists.isPending}
        error={lists.error}
        onRetry={() => void lists.refetch()}
        empty="No lists imported."
        csvName="list-snapshots"
        toolbar={
          <Button variant="default" onClick={() => setAll(!all)}>
            {all ? 'Only active' : 'Show all'}
          </Button>
        }
        columns={[
          { key: 'list', header: 'List', value: (s) => s.listKey },
          { key: 'source', header: 'Source', value: (s) => s.source },
          { key: 'published', header: 'Published', value: (s) => s.publicationDate ?? '' },
          {
            key: 'imported',
            header: 'Imported',
            value: (s) => s.importedAt,
            render: (s) => formatDateTime(s.importedAt),
          },
          { key: 'counts', header: 'Counts', value: (s) => JSON.stringify(s.counts) },
          { key: 'active', header: 'Active', value: (s) => (s.active ? 'yes' : 'no') },
          {
            key: 'hash',
            header: 'Content hash',
            value: (s) => s.contentHash,
            render: (s) => <Code>{s.contentHash.slice(0, 12)}…</Code>,
          },
        ]}
      />
    </Page>
  );
}
