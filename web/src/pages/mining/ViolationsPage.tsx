import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Anchor, Badge, Group, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { api, unwrap } from '../../api/client';
import type { paths } from '../../api/schema';
import { LoadMore, usePagedList } from '../../api/paging';
import { FocusMissing, useFocusedRow } from '../../api/focus';
import { DataTable, type Column } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { formatBtc, formatDateTime } from '../../format';
import { useUser } from '../../session';
import { outputPath, regionLabel, TxLink, useMiners, useRegions, type Violation } from './shared';

type ViolationQuery = NonNullable<paths['/v1/mining/violations']['get']['parameters']['query']>;
type Status = NonNullable<ViolationQuery['status']>;

const STATUS_COLOUR: Record<Status, string> = {
  open: 'red',
  linked: 'orange',
  confirmed: 'grape',
  dismissed: 'gray',
};
const STATUSES = Object.keys(STATUS_COLOUR) as Status[];
const isStatus = (value: string): value is Status => (STATUSES as string[]).includes(value);

/** The day after a YYYY-MM-DD date, as the exclusive end of a UTC range. */
const dayAfter = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString();

/** The columns of a violations table: names with ids on hover, links to the coinbase and the site. */
export function violationColumns(): Column<Violation>[] {
  return [
    {
      key: 'mined',
      header: 'Mined',
      value: (v) => v.blockTime,
      render: (v) => formatDateTime(v.blockTime),
    },
    {
      key: 'miner',
      header: 'Miner',
      value: (v) => v.minerName ?? v.minerId,
      render: (v) => <span title={v.minerId}>{v.minerName ?? v.minerId}</span>,
    },
    {
      key: 'site',
      header: 'Site',
      value: (v) => v.siteName ?? v.siteId,
      render: (v) => (
        <Anchor
          component={Link}
          to={`/mining?region=${encodeURIComponent(v.regionCode)}`}
          title={v.siteId}
          size="sm"
        >
          {v.siteName ?? v.siteId}
        </Anchor>
      ),
    },
    {
      key: 'region',
      header: 'Region',
      value: (v) => regionLabel(v.regionCode, v.regionName),
    },
    {
      key: 'block',
      header: 'Block (coinbase)',
      value: (v) => String(v.height),
      render: (v) => (
        <Group gap={6} wrap="nowrap">
          <Text size="sm" title={v.blockHash}>
            {v.height.toLocaleString()}
          </Text>
          <TxLink txid={v.txid} label="coinbase" />
        </Group>
      ),
      align: 'right',
    },
    {
      key: 'value',
      header: 'Output',
      value: (v) => v.valueSats,
      render: (v) => formatBtc(v.valueSats),
      align: 'right',
    },
    {
      key: 'status',
      header: 'Status',
      value: (v) => v.status,
      render: (v) => (
        <Badge color={STATUS_COLOUR[v.status]} variant="light" style={{ maxWidth: 'none' }}>
          {v.status}
        </Badge>
      ),
    },
    {
      key: 'provenance',
      header: 'Where it went',
      sortable: false,
      value: () => '',
      render: (v) => (
        <Anchor
          component={Link}
          to={outputPath(v.txid, v.vout)}
          size="sm"
          aria-label={`Provenance of the output mined at block ${v.height}`}
        >
          Provenance
        </Anchor>
      ),
    },
  ];
}

/**
 * Output mined under a ban (MINING_BAN_VIOLATION), newest first, paged by the server and
 * filtered there by region, miner, status and the day it was mined.
 */
export function ViolationsPage() {
  const user = useUser();
  const seesAll = user.role === 'supervisor' || user.role === 'auditor';
  const [params, setParams] = useSearchParams();
  const [from, setFrom] = useState(params.get('from') ?? '');
  const [to, setTo] = useState(params.get('to') ?? '');
  const region = params.get('region');
  const miner = params.get('miner');
  const statusParam = params.get('status') ?? '';
  const status = isStatus(statusParam) ? statusParam : null;
  const regions = useRegions();
  const miners = useMiners(seesAll);
  const query: ViolationQuery = {
    ...(region ? { regionCode: region } : {}),
    ...(miner ? { minerId: miner } : {}),
    ...(status ? { status } : {}),
    ...(/^\d{4}-\d{2}-\d{2}$/.test(from) ? { from: `${from}T00:00:00Z` } : {}),
    ...(/^\d{4}-\d{2}-\d{2}$/.test(to) ? { to: dayAfter(to) } : {}),
  };
  const list = usePagedList(['miningViolation', query], async (cursor) =>
    unwrap(
      await api.GET('/v1/mining/violations', {
        params: { query: { ...query, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  // `?id=` (the supervisor's home: a violation) highlights that violation.
  const focus = useFocusedRow(list, (v) => v.attributionId);
  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return (
    <Page
      title="Ban violations"
      description="Output mined in a region while a ban was in force, newest first. Filters apply on the server; follow an output to see where its coins went."
    >
      <Stack gap="md">
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 5 }}>
          <Select
            label="Region"
            placeholder="All regions"
            data={(regions.data ?? []).map((r) => ({
              value: r.code,
              label: regionLabel(r.code, r.name),
            }))}
            value={region}
            onChange={(v) => setParam('region', v)}
            clearable
            searchable
          />
          {seesAll && (
            <Select
              label="Miner"
              placeholder="All miners"
              data={(miners.data ?? []).map((m) => ({ value: m.id, label: m.legalName }))}
              value={miner}
              onChange={(v) => setParam('miner', v)}
              clearable
              searchable
            />
          )}
          <Select
            label="Status"
            placeholder="Any status"
            data={STATUSES}
            value={status}
            onChange={(v) => setParam('status', v)}
            clearable
          />
          <TextInput
            type="date"
            label="Mined from"
            value={from}
            onChange={(e) => {
              setFrom(e.currentTarget.value);
              setParam('from', e.currentTarget.value);
            }}
          />
          <TextInput
            type="date"
            label="Mined to"
            description="Included"
            value={to}
            onChange={(e) => {
              setTo(e.currentTarget.value);
              setParam('to', e.currentTarget.value);
            }}
          />
        </SimpleGrid>
        <div>
          <FocusMissing show={focus.missing} what="violation" />
          <DataTable
            caption="Ban violations"
            rows={list.rows}
            rowKey={(v) => v.attributionId}
            loading={list.isPending}
            error={list.error}
            onRetry={list.refetch}
            empty="No output mined under a ban matches."
            csvName="mining-violations"
            focusKey={focus.key}
            columns={violationColumns()}
          />
          <LoadMore list={list} />
        </div>
      </Stack>
    </Page>
  );
}
