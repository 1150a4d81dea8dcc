import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Compliance } from '../../compliance';
import { SUPERVISOR, type DemoProgress } from './types';

type ListImport = Parameters<Compliance['screening']['importList']>[1];

/**
 * Imports the real sanctions lists kept with the tests (OFAC SDN, the UN consolidated list,
 * OFAC's digital-currency addresses), so that screening in the demo meets real entries.
 */
export async function importSanctionsLists(
  compliance: Compliance,
  sanctionsDir: string,
  progress: DemoProgress,
): Promise<void> {
  const read = (file: string) => readFile(path.join(sanctionsDir, file));
  const lists: { label: string; load: () => Promise<ListImport> }[] = [
    {
      label: 'OFAC SDN (2021 CSV)',
      load: async () => ({
        format: 'ofac-csv',
        sdn: await read('ofac-2021/sdn.csv'),
        add: await read('ofac-2021/add.csv'),
        alt: await read('ofac-2021/alt.csv'),
      }),
    },
    {
      label: 'UN consolidated list (XML)',
      load: async () => ({
        format: 'un-xml',
        bytes: await read('un-consolidated-2026-02-27.xml'),
      }),
    },
    {
      label: 'OFAC digital-currency addresses (XBT)',
      load: async () => ({
        format: 'address-list',
        asset: 'XBT',
        bytes: await read('ofac-crypto-2024-09/sanctioned_addresses_XBT.txt'),
      }),
    },
  ];
  for (const list of lists) {
    progress.phase(`importing ${list.label}`, 100);
    await compliance.screening.importList(SUPERVISOR, await list.load(), (phase, done, total) =>
      progress.update(total > 0 ? Math.floor((done / total) * 100) : 0, phase),
    );
    progress.update(100);
  }
}
