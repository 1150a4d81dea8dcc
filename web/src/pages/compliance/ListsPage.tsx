import { useState } from 'react';
import { Button, Code } from '@mantine/core';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { DataTable } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { formatDateTime } from '../../format';

export function ListsPage() {
  const [all, setAll] = useState(false);
  const lists = usePagedList(['listSnapshot', all], async (cursor) =>
    unwrap(
      await api.GET('/v1/lists', {
        params: { query: { ...(all ? { all: 'true' as const } : {}), cursor } },
      }),
    ),
  );
  const rows = lists.rows;
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
        onRetry={lists.refetch}
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
      <LoadMore list={lists} />
    </Page>
  );
}
