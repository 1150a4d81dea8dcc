import { systemCaller } from '../../src/kernel';
import { leiCheckDigits } from '../../src/kernel';
import type { RegistryService } from '../../src/registry';
import { everyItem } from '../../src/db';

/**
 * The id of a registered foreign VASP named `name` (registered on first use by the supervisor,
 * with an LEI whose check digits are computed from the name): a hosted counterparty address
 * names one by id.
 */
export async function testVasp(
  registry: RegistryService,
  name: string,
  jurisdiction = 'JP',
): Promise<string> {
  for await (const known of everyItem((page) => registry.listVasps({ q: name }, page))) {
    if (known.name === name) return known.id;
  }
  const letters = name.toUpperCase().replace(/[^0-9A-Z]/g, '');
  const prefix = `5493${letters}00000000000000`.slice(0, 18);
  const vasp = await registry.registerVasp(systemCaller('test'), {
    name,
    lei: `${prefix}${leiCheckDigits(prefix)}`,
    jurisdiction,
    licence: { authority: `${jurisdiction} regulator`, number: `VASP-${letters.slice(0, 8)}` },
  });
  return vasp.id;
}
