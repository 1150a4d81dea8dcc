/*
 * The participant registration form. It runs past 60 lines: one form whose fields share one
 * state and one mutation, kept whole.
 */
import { useState } from 'react';
import {
  Button,
  Group,
  Paper,
  Radio,
  Select,
  SimpleGrid,
  Stack,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { CountryPicker } from '../../components/CountryPicker';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { ParticipantPicker } from '../../components/ParticipantPicker';
import { PERSON_TYPE_LABELS } from '../../components/TravelRule';
import { useUser } from '../../session';
import { KINDS_BY_ROLE, type Participant, type ParticipantKind, type PersonType } from './shared';

const PERSON_TYPE_HELP =
  'A sole trader is a natural person: screening compares the name with listed individuals, not companies.';

/**
 * Registers a participant. A counterparty is a legal person (a company) or a natural person (a
 * foreign sole trader), whose name is asked for in parts (first names, last name) and registered
 * as one name, first names first.
 */
export function RegisterParticipantForm({
  onRegistered,
}: {
  onRegistered: (p: Participant) => void;
}) {
  const user = useUser();
  const queryClient = useQueryClient();
  const kinds = KINDS_BY_ROLE[user.role] ?? [];
  const [kind, setKind] = useState<ParticipantKind>(
    kinds.includes('counterparty') ? 'counterparty' : (kinds[0] ?? 'counterparty'),
  );
  const [personType, setPersonType] = useState<PersonType>('legal');
  const [form, setForm] = useState({
    legalName: '',
    firstNames: '',
    lastName: '',
    otherNames: '',
    country: '',
    registrationNumber: '',
    lei: '',
    addressLine: '',
    postalCode: '',
    city: '',
    addressCountry: '',
  });
  const [platformId, setPlatformId] = useState<string | null>(null);
  const [lastNameMissing, setLastNameMissing] = useState(false);
  const needsPlatform =
    user.role === 'supervisor' && (kind === 'company' || kind === 'counterparty');
  const natural = kind === 'counterparty' && personType === 'natural';
  const register = useMutation({
    mutationFn: async () => {
      const country = form.country.trim().toUpperCase();
      const hasAddress = [form.addressLine, form.city, form.postalCode].some((v) => v.trim());
      return unwrap(
        await api.POST('/v1/participants', {
          body: {
            kind,
            ...(kind === 'counterparty' ? { personType } : {}),
            legalName: natural
              ? [form.firstNames.trim(), form.lastName.trim()].filter(Boolean).join(' ')
              : form.legalName.trim(),
            otherNames: form.otherNames
              .split(';')
              .map((name) => name.trim())
              .filter(Boolean),
            country,
            registrationNumber: form.registrationNumber.trim() || null,
            lei: form.lei.trim().toUpperCase() || null,
            ...(hasAddress
              ? {
                  addresses: [
                    {
                      lines: form.addressLine.trim() ? [form.addressLine.trim()] : [],
                      city: form.city.trim(),
                      ...(form.postalCode.trim() ? { postalCode: form.postalCode.trim() } : {}),
                      country: form.addressCountry.trim().toUpperCase() || country,
                    },
                  ],
                }
              : {}),
            ...(needsPlatform ? { platformId: platformId ?? '' } : {}),
          },
        }),
      );
    },
    onSuccess: (participant) => {
      void queryClient.invalidateQueries({ queryKey: ['participant'] });
      onRegistered(participant);
    },
  });
  const error = register.error;
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setForm((f) => ({ ...f, [key]: value }));
  };
  const nameError = fieldErrorOf(error, 'legalName');
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Register a participant
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          // The last name is IVMS101's primary identifier: a natural person cannot do without it.
          const missing = natural && form.lastName.trim() === '';
          setLastNameMissing(missing);
          if (!missing) register.mutate();
        }}
        noValidate
        aria-label="Register a participant"
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <Select
              label="Participant kind"
              data={kinds}
              value={kind}
              onChange={(v) => v && setKind(v)}
              allowDeselect={false}
              error={fieldErrorOf(error, 'kind')}
            />
            {needsPlatform && (
              <ParticipantPicker
                label="Platform"
                description="The licensed platform that carries its payments"
                placeholder="Type the start of its name"
                kind="platform"
                value={platformId}
                onChange={setPlatformId}
                error={fieldErrorOf(error, 'platformId')}
              />
            )}
          </SimpleGrid>
          {kind === 'counterparty' && (
            <Radio.Group
              label="Person type"
              description={PERSON_TYPE_HELP}
              value={personType}
              onChange={(v) => setPersonType(v)}
              error={fieldErrorOf(error, 'personType')}
            >
              <Group mt={4}>
                <Radio value="legal" label={PERSON_TYPE_LABELS.legal} />
                <Radio value="natural" label={PERSON_TYPE_LABELS.natural} />
              </Group>
            </Radio.Group>
          )}
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            {natural ? (
              <>
                <TextInput
                  label="First names"
                  value={form.firstNames}
                  onChange={set('firstNames')}
                />
                <TextInput
                  label="Last name"
                  description="Family name, as on the identity document"
                  value={form.lastName}
                  onChange={set('lastName')}
                  error={lastNameMissing ? 'the last name is required' : nameError}
                />
              </>
            ) : (
              <TextInput
                label="Legal name"
                value={form.legalName}
                onChange={set('legalName')}
                error={nameError}
              />
            )}
            <TextInput
              label="Other names"
              description={
                natural
                  ? 'Other spellings or the name in another script, separated by “;”'
                  : 'Trading names or transliterations, separated by “;”'
              }
              value={form.otherNames}
              onChange={set('otherNames')}
              error={fieldErrorOf(error, 'otherNames.0')}
            />
            <CountryPicker
              label={natural ? 'Country of residence' : 'Country'}
              value={form.country}
              onChange={(country) => setForm((f) => ({ ...f, country }))}
              error={fieldErrorOf(error, 'country')}
            />
            <TextInput
              label={natural ? 'Trade register number' : 'Registration number'}
              description="Optional"
              value={form.registrationNumber}
              onChange={set('registrationNumber')}
              error={fieldErrorOf(error, 'registrationNumber')}
            />
            <TextInput
              label="LEI"
              description="Optional, ISO 17442"
              value={form.lei}
              onChange={set('lei')}
              error={fieldErrorOf(error, 'lei')}
            />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, md: 4 }}>
            <TextInput
              label="Address line"
              description="Optional"
              value={form.addressLine}
              onChange={set('addressLine')}
              error={fieldErrorOf(error, 'addresses.0.lines.0')}
            />
            <TextInput
              label="Postcode"
              value={form.postalCode}
              onChange={set('postalCode')}
              error={fieldErrorOf(error, 'addresses.0.postalCode')}
            />
            <TextInput
              label="City"
              value={form.city}
              onChange={set('city')}
              error={fieldErrorOf(error, 'addresses.0.city')}
            />
            <CountryPicker
              label="Address country"
              description="If not the country above"
              value={form.addressCountry}
              onChange={(addressCountry) => setForm((f) => ({ ...f, addressCountry }))}
              error={fieldErrorOf(error, 'addresses.0.country')}
            />
          </SimpleGrid>
          <FormError error={error} />
          <Group justify="flex-end">
            <Button type="submit" loading={register.isPending}>
              Register participant
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
