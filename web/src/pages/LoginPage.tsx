import { useState, type FormEvent } from 'react';
import {
  Alert,
  Button,
  Center,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../api/client';
import { useSession } from '../session';
import { ThemeToggle } from '../Layout';

export function LoginPage() {
  const { setUser } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const login = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/session', {
          body: { username, password, ...(totpCode ? { totpCode } : {}) },
        }),
      ),
    onSuccess: (data) => setUser(data.user),
  });
  const error = login.error instanceof ApiError ? login.error : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate();
  };

  return (
    <main>
      <Center mih="100vh" p="md">
        <Paper withBorder shadow="sm" p="xl" w={400} maw="100%">
          <form onSubmit={submit} noValidate>
            <Stack>
              <Group justify="space-between">
                <Title order={1} size="h2">
                  Tradeclear
                </Title>
                <ThemeToggle />
              </Group>
              <Text>Log in to the supervised settlement scheme.</Text>
              {login.error && !error?.body.issues && (
                <Alert color="red" role="alert" title="Login failed">
                  {login.error.message}
                </Alert>
              )}
              <TextInput
                label="Username"
                autoComplete="username"
                required
                value={username}
                onChange={(e) => setUsername(e.currentTarget.value)}
                error={error?.fieldError('username')}
              />
              <PasswordInput
                label="Password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
                error={error?.fieldError('password')}
              />
              <TextInput
                label="Authenticator code"
                description="Only if your account has a second factor (6 digits)"
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                value={totpCode}
                onChange={(e) => setTotpCode(e.currentTarget.value.replace(/\D/g, ''))}
                error={error?.fieldError('totpCode')}
              />
              <Button type="submit" loading={login.isPending} fullWidth>
                Log in
              </Button>
            </Stack>
          </form>
        </Paper>
      </Center>
    </main>
  );
}
