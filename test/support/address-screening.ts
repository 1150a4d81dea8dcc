import { createCompliance } from '../../src/compliance';
import type { Database } from '../../src/db';
import type { Clock, Random } from '../../src/kernel';

/**
 * Compliance's address screening over `db` (no list loaded until a test imports one), for the
 * tests of modules that receive it as a port and may not import compliance themselves.
 */
export function addressScreening(ports: { db: Database; clock: Clock; random: Random }) {
  return createCompliance(ports).screening;
}
