/**
 * Migrations 0020 (trade counts people) and 0021 (every API key belongs to a person) on a database
 * filled the way the code before them filled it: keys belonged to nobody, and payouts, approvals
 * and contracts recorded only the credential. Each legacy key must become its own password-less
 * person, and every trade row that named a legacy key as its maker, approver, creator or submitter
 * must name that person, so that a legacy key can never approve what it made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../src/db';
import { openBefore } from '../support/migrations';
import { TEST_DRIVERS } from '../support/db';

const FIRST_MIGRATION = '0020_trade_people_and_holds';
const KEY_MAKER = 'key_01JMAKER000000000000000000';
const KEY_CHECKER = 'key_01JCHECKER0000000000000000';
const USER_OFFICER = 'usr_01JOFFICER0000000000000000';
const AT = '2026-07-01T09:00:00Z';

/**
 * Inserts one row, giving every NOT NULL column without a default a value of its type, so that
 * the test names only the columns it is about (the old schema has many more).
 */
async function insertRow(
  db: Database,
  table: string,
  values: Record<string, string | number>,
): Promise<void> {
  const columns = rows(
    await db.orm.execute(
      sql`select column_name, data_type from information_schema.columns
          where table_schema = 'public' and table_name = ${table}
            and is_nullable = 'NO' and column_default is null`,
    ),
  );
  const row: Record<string, string | number> = {};
  for (const column of columns) {
    const name = column.column_name ?? '';
    const type = column.data_type ?? '';
    row[name] = type.includes('timestamp')
      ? AT
      : type === 'jsonb'
        ? '{}'
        : type === 'integer' || type === 'bigint' || type === 'numeric'
          ? 1
          : 'x';
  }
  Object.assign(row, values);
  const names = Object.keys(row);
  await db.orm.execute(
    sql.raw(
      `insert into "${table}" (${names.map((n) => `"${n}"`).join(', ')}) values (${names
        .map((n) => {
          const v = row[n];
          return typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`;
        })
        .join(', ')})`,
    ),
  );
}

/** Rows as text (null kept), for comparing with what the test wrote. */
function rows(result: unknown): Record<string, string | null>[] {
  return rowsOf(result).map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v === null ? null : typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    ),
  );
}

describe.each(TEST_DRIVERS)('key persons migration on %s', (driver) => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await openBefore(driver, FIRST_MIGRATION));
    for (const id of [KEY_MAKER, KEY_CHECKER]) {
      await insertRow(db, 'api_keys', {
        id,
        participant_id: 'par_platform',
        platform_id: 'par_platform',
        role: 'platform',
        name: id === KEY_MAKER ? 'maker key' : 'checker key',
        secret_hash: `hash-${id}`,
        created_by: 'system',
      });
    }
    // A person who logged in with a session: already a person, left alone.
    await insertRow(db, 'users', {
      id: USER_OFFICER,
      username: 'officer',
      display_name: 'Officer',
      password_hash: 'scrypt$x',
      role: 'platform',
      participant_id: 'par_platform',
    });
    await insertRow(db, 'trade_contracts', {
      id: 'ctr_legacy',
      platform_id: 'par_platform',
      company_id: 'par_company',
      status: 'active',
      direction: 'import',
      hs_code: '310520',
      currency: 'USD',
      pricing_mode: 'fiat',
      supervisor_approval: 'notRequired',
      created_by: KEY_MAKER,
    });
    await insertRow(db, 'trade_payouts', {
      id: 'pay_legacy',
      platform_id: 'par_platform',
      company_id: 'par_company',
      contract_id: 'ctr_legacy',
      status: 'awaitingApproval',
      amount_sats: 100_000,
      created_by: KEY_MAKER,
      required_approvals: 2,
    });
    for (const actor of [KEY_CHECKER, USER_OFFICER]) {
      await insertRow(db, 'trade_payout_approvals', {
        payout_id: 'pay_legacy',
        actor_id: actor,
        participant_id: 'par_platform',
      });
    }
    await db.migrate();
  });

  afterAll(async () => {
    await close();
  });

  it('gives each legacy key its own password-less person of its role and participant', async () => {
    const keys = rows(await db.orm.execute(sql`select id, user_id from api_keys order by id`));
    expect(keys).toEqual([
      { id: KEY_CHECKER, user_id: 'usr_01JCHECKER0000000000000000' },
      { id: KEY_MAKER, user_id: 'usr_01JMAKER000000000000000000' },
    ]);
    const persons = rows(
      await db.orm.execute(
        sql`select id, role, participant_id, password_hash, display_name from users
            where id in ('usr_01JMAKER000000000000000000', 'usr_01JCHECKER0000000000000000')
            order by id`,
      ),
    );
    expect(persons).toHaveLength(2);
    for (const person of persons) {
      expect(person.role).toBe('platform');
      expect(person.participant_id).toBe('par_platform');
      expect(person.password_hash).toBeNull();
    }
    expect(persons.map((p) => p.display_name)).toEqual([
      `Holder of API key checker key (${KEY_CHECKER})`,
      `Holder of API key maker key (${KEY_MAKER})`,
    ]);
  });

  it("names the legacy key's person as maker, creator and approver in trade's rows", async () => {
    const [payout] = rows(
      await db.orm.execute(
        sql`select created_by, created_by_person from trade_payouts where id = 'pay_legacy'`,
      ),
    );
    // The credential stays on record; the person is the key's person, not the key.
    expect(payout).toEqual({
      created_by: KEY_MAKER,
      created_by_person: 'usr_01JMAKER000000000000000000',
    });
    const [contract] = rows(
      await db.orm.execute(
        sql`select created_by_person from trade_contracts where id = 'ctr_legacy'`,
      ),
    );
    expect(contract?.created_by_person).toBe('usr_01JMAKER000000000000000000');
    const approvals = rows(
      await db.orm.execute(
        sql`select actor_id, person_id from trade_payout_approvals order by actor_id`,
      ),
    );
    expect(approvals).toEqual([
      { actor_id: KEY_CHECKER, person_id: 'usr_01JCHECKER0000000000000000' },
      { actor_id: USER_OFFICER, person_id: USER_OFFICER },
    ]);
  });

  it('refuses a key whose person has another role or participant (enforced by the database)', async () => {
    await expect(
      db.orm.execute(sql`update api_keys set participant_id = 'par_other' where id = ${KEY_MAKER}`),
    ).rejects.toThrow();
  });
});
