/**
 * The API's getting-started guide: the description of the OpenAPI document (so the docs page at
 * `/docs` opens with it) and, word for word, docs/api.md (test/docs/api.test.ts holds them equal).
 */
export const API_GUIDE = `## Getting started

### Credentials

Machines send an API key: \`Authorization: Bearer tck_…\`. Every key belongs to a person and
carries one role (supervisor, platform, company, miner, auditor) and, for a participant's key,
its participant. Get one:

- from the command line, on the server's host: \`npx tradeclear keys create --role supervisor\`
  (\`--participant ID\`, \`--platform ID\` for a participant's key); the token is printed once;
- in the web app, under **Account → API keys** (the token is shown once);
- over the API: \`POST /v1/keys\` (yourself, or the supervisor for a participant's administrator
  or a named person of it). \`GET /v1/me\` tells who a key is.

People in a browser log in instead: \`POST /v1/session\` with \`{ username, password, totpCode? }\`
sets the \`tc_session\` cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) for 12 hours;
\`GET /v1/session\` reads it, \`DELETE /v1/session\` logs out. With a session, a state-changing
request (anything but GET, HEAD, OPTIONS) must come from the app's own origin (\`Sec-Fetch-Site\`
or \`Origin\`) and send JSON; there is no CSRF token to fetch. Bearer keys are not affected.

### Roles

Each operation names the roles it admits in its description ("Roles: …") and in \`x-roles\`;
another role gets 403 \`FORBIDDEN\` (and an anonymous caller 401) before its request body is
read, so a refusal says nothing about the input. Within its role, a participant reaches its own
records only.

### Errors

A failure answers \`{ code, message, requestId, issues? }\`. \`code\` is one of a closed list,
each with a fixed HTTP status (docs/errors.md lists them all); \`issues\` names each invalid field
of a 400 \`VALIDATION_FAILED\`. \`requestId\` (also the \`x-request-id\` header) finds the request
in the logs. Bad input changes nothing.

### Pagination

Lists answer \`{ items, nextCursor }\`, newest first. \`limit\` takes 1 to 500 rows (default 50);
pass \`nextCursor\` unchanged as \`cursor\` for the next page. \`nextCursor\` is null on the last.

### Idempotency

\`POST /v1/invoices\` and \`POST /v1/payouts\` take an \`Idempotency-Key\` header (a UUID, say).
A retry with the same key and body answers 200 with what the first request created
(\`Idempotent-Replayed: true\`) and creates nothing; the same key with another body is refused
(422 \`IDEMPOTENCY_KEY_REUSED\`).

### Limits

\`RATE_LIMIT_PER_MINUTE\` requests a minute per key (per address when anonymous), then 429
\`RATE_LIMITED\`; repeated failed authentications from one address are locked out for a while.
`;
