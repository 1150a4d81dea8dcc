import { describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/http/app';
import { withFixingIds } from '../../src/http/routes/fixings';

/**
 * withFixingIds remembers what it read (a stored rate is never updated), per rate service: one
 * database's rate ids say nothing about another's, and a rate not found is read again. The
 * answers themselves against a real database: test/http/fixing-valuation.test.ts.
 */
function ratesWith(stored: Record<string, string | null>) {
  const asked: string[][] = [];
  const rates = {
    fixingIdsOf: (ids: readonly string[]) => {
      asked.push([...ids]);
      return Promise.resolve(
        new Map(ids.filter((id) => id in stored).map((id) => [id, stored[id] ?? null])),
      );
    },
  };
  // withFixingIds reads nothing of its deps but services.rates.fixingIdsOf.
  const deps = { services: { rates } } as unknown as AppDeps;
  return { deps, asked, stored };
}

describe('fixing ids of stored rates', () => {
  it('reads a rate once, a rate not found again, and keeps each database apart', async () => {
    const one = ratesWith({ rat_a: 'fix_1', rat_b: null });
    const items = [{ rateId: 'rat_a' }, { rateId: 'rat_b' }, { rateId: 'rat_c' }];
    const first = await withFixingIds(one.deps, items);
    expect(first.map((i) => i.fixingId)).toEqual(['fix_1', null, null]);
    one.stored.rat_c = 'fix_2'; // stored since (in another transaction)
    const second = await withFixingIds(one.deps, items);
    expect(second.map((i) => i.fixingId)).toEqual(['fix_1', null, 'fix_2']);
    expect(one.asked).toEqual([['rat_a', 'rat_b', 'rat_c'], ['rat_c']]);

    const other = ratesWith({ rat_a: 'fix_9' });
    expect((await withFixingIds(other.deps, [{ rateId: 'rat_a' }]))[0]?.fixingId).toBe('fix_9');
  });
});
