import { useState, type FormEvent } from 'react';
import {
  Alert,
  Button,
  Code,
  Group,
  Modal,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client';
import type { components, paths } from '../../api/schema';
import { FormError } from '../../components/FormError';
import { BAN_KEY } from './shared';

/** The supervisor's ban forms: declaring a ban and lifting one (used by the mining page). */

export type Ban = components['schemas']['MiningBan'];
type BanBody = paths['/v1/mining/bans']['post']['requestBody']['content']['application/json'];
type BanKind = Ban['kind'];

const KINDS: { value: BanKind; label: string }[] = [
  { value: 'full', label: 'Full ban (every hour of every day)' },
  { value: 'seasonal', label: 'Seasonal (the same season every year)' },
  { value: 'curtailment', label: 'Curtailment (daily peak hours)' },
];
const isKind = (value: string): value is BanKind => KINDS.some((k) => k.value === value);

/** The supervisor declares a ban: POST /v1/mining/bans, the server's checks shown at each field. */
export function DeclareBanForm({
  regions,
  onDeclared,
}: {
  regions: readonly { code: string; name: string }[];
  onDeclared: (ban: Ban) => void;
}) {
  const queryClient = useQueryClient();
  const [regionCode, setRegionCode] = useState<string | null>(null);
  const [kind, setKind] = useState<BanKind>('full');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [seasonStart, setSeasonStart] = useState('');
  const [seasonEnd, setSeasonEnd] = useState('');
  const [startYear, setStartYear] = useState('');
  const [endYear, setEndYear] = useState('');
  const [dailyStart, setDailyStart] = useState('');
  const [dailyEnd, setDailyEnd] = useState('');
  const [reason, setReason] = useState('');

  const body = (): BanBody => {
    const region = regionCode ?? '';
    switch (kind) {
      case 'full':
        return { kind, regionCode: region, from, to, reason };
      case 'seasonal':
        return {
          kind,
          regionCode: region,
          seasonStart,
          seasonEnd,
          startYear: Number(startYear),
          endYear: Number(endYear),
          reason,
        };
      case 'curtailment':
        return {
          kind,
          regionCode: region,
          from,
          to,
          dailyStart,
          dailyEnd,
          // The season of a curtailment is optional: both bounds or neither.
          ...(seasonStart || seasonEnd ? { seasonStart, seasonEnd } : {}),
          reason,
        };
    }
  };
  const declare = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/mining/bans', { body: body() })),
    onSuccess: (ban) => {
      void queryClient.invalidateQueries({ queryKey: [BAN_KEY] });
      setReason('');
      onDeclared(ban);
    },
  });
  const error = declare.error instanceof ApiError ? declare.error : null;
  const fieldError = (field: string) => error?.fieldError(field);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    declare.mutate();
  };
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Declare a ban
      </Title>
      <form onSubmit={submit} noValidate aria-label="Declare a ban">
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <Select
              label="Region"
              placeholder="Choose a region"
              data={regions.map((r) => ({ value: r.code, label: `${r.name} (${r.code})` }))}
              value={regionCode}
              onChange={setRegionCode}
              error={fieldError('regionCode')}
              searchable
            />
            <Select
              label="Kind"
              data={KINDS}
              value={kind}
              onChange={(v) => v && isKind(v) && setKind(v)}
              allowDeselect={false}
              error={fieldError('kind')}
            />
          </SimpleGrid>
          {kind !== 'seasonal' && (
            <SimpleGrid cols={{ base: 1, md: 3 }}>
              <TextInput
                type="date"
                label="From"
                description="First day, the region's local date"
                value={from}
                onChange={(e) => setFrom(e.currentTarget.value)}
                error={fieldError('from')}
              />
              <TextInput
                type="date"
                label="To"
                description="Last day (included)"
                value={to}
                onChange={(e) => setTo(e.currentTarget.value)}
                error={fieldError('to')}
              />
            </SimpleGrid>
          )}
          {kind === 'curtailment' && (
            <SimpleGrid cols={{ base: 1, md: 3 }}>
              <TextInput
                type="time"
                label="Daily from"
                description="Local time the curtailment starts each day"
                value={dailyStart}
                onChange={(e) => setDailyStart(e.currentTarget.value)}
                error={fieldError('dailyStart')}
              />
              <TextInput
                type="time"
                label="Daily to"
                description="Local time it ends (may be after midnight)"
                value={dailyEnd}
                onChange={(e) => setDailyEnd(e.currentTarget.value)}
                error={fieldError('dailyEnd')}
              />
            </SimpleGrid>
          )}
          {kind !== 'full' && (
            <SimpleGrid cols={{ base: 1, md: 3 }}>
              <TextInput
                label="Season start"
                description={
                  kind === 'seasonal'
                    ? 'Month and day, e.g. 11-15'
                    : 'Optional: month and day, e.g. 11-15'
                }
                value={seasonStart}
                onChange={(e) => setSeasonStart(e.currentTarget.value)}
                error={fieldError('seasonStart')}
              />
              <TextInput
                label="Season end"
                description="Month and day, included; before the start wraps the year end"
                value={seasonEnd}
                onChange={(e) => setSeasonEnd(e.currentTarget.value)}
                error={fieldError('seasonEnd')}
              />
            </SimpleGrid>
          )}
          {kind === 'seasonal' && (
            <SimpleGrid cols={{ base: 1, md: 3 }}>
              <TextInput
                label="First year"
                inputMode="numeric"
                value={startYear}
                onChange={(e) => setStartYear(e.currentTarget.value)}
                error={fieldError('startYear')}
              />
              <TextInput
                label="Last year"
                description="The season starting this year is the last"
                inputMode="numeric"
                value={endYear}
                onChange={(e) => setEndYear(e.currentTarget.value)}
                error={fieldError('endYear')}
              />
            </SimpleGrid>
          )}
          <Textarea
            label="Reason"
            description="Shown to miners with the ban, and kept in the audit log"
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            error={fieldError('reason')}
            autosize
            minRows={2}
          />
          <Group>
            <Button type="submit" loading={declare.isPending}>
              Declare ban
            </Button>
          </Group>
        </Stack>
      </form>
      <FormError error={declare.error} />
      {declare.data && (
        <Alert color="teal" mt="md" title="Ban declared" data-testid="ban-declared">
          {declare.data.regionCode}: {declare.data.fromDate} to {declare.data.toDate} (
          <Code>{declare.data.id}</Code>)
        </Alert>
      )}
    </Paper>
  );
}

/** The supervisor lifts a ban with a reason: POST /v1/mining/bans/:id/lift. */
export function LiftBanDialog({ ban, onClose }: { ban: Ban | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const lift = useMutation({
    mutationFn: async (id: string) =>
      unwrap(
        await api.POST('/v1/mining/bans/{id}/lift', {
          params: { path: { id } },
          body: { reason },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: [BAN_KEY] });
      setReason('');
      onClose();
    },
  });
  const error = lift.error instanceof ApiError ? lift.error : null;
  return (
    <Modal
      opened={ban !== null}
      onClose={() => {
        lift.reset();
        onClose();
      }}
      title={ban ? `Lift the ${ban.kind} ban on ${ban.regionCode}` : 'Lift a ban'}
    >
      {ban && (
        <form
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            lift.mutate(ban.id);
          }}
        >
          <Stack gap="sm">
            <Textarea
              label="Reason for lifting"
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
              error={error?.fieldError('reason')}
              autosize
              minRows={2}
              data-autofocus
            />
            <Group>
              <Button type="submit" color="red" loading={lift.isPending}>
                Lift ban
              </Button>
            </Group>
            <FormError error={lift.error} />
          </Stack>
        </form>
      )}
    </Modal>
  );
}
