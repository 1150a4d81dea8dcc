import { signBip322Simple } from '../../bitcoin';
import type { Caller } from '../../kernel';
import { demoKey } from '../wallet';
import type { DemoPorts, PlatformActor } from './types';

/**
 * The settlement addresses the clearing pays the demo's platforms at, on four eyes: for each
 * platform, one officer proposes an address of a demo key with its BIP322 proof (the server's
 * statement, signed) and another approves it. The first platform (the `platform` login's) also
 * has a replacement proposed by a third officer and left pending, for a second officer (the
 * `platform` or `platform2` login) to approve or reject in the web app.
 */
export async function seedSettlementAddresses(
  ports: DemoPorts,
  platforms: readonly PlatformActor[],
): Promise<void> {
  const windows = ports.services.settlementWindows;
  const propose = (officer: Caller, label: string) => {
    const key = demoKey(label);
    const { message } = windows.settlementAddressStatement(officer, { address: key.address });
    const signature = signBip322Simple({
      address: key.address,
      message,
      privateKey: key.secret,
      network: 'regtest',
    });
    return windows.proposeSettlementAddress(officer, { address: key.address, message, signature });
  };
  for (const platform of platforms) {
    const proposed = await propose(platform.officers.maker, `settlement ${platform.id}`);
    await windows.approveSettlementAddress(platform.officers['officer-a'], proposed.id);
  }
  const first = platforms[0];
  if (first) await propose(first.officers['officer-b'], `settlement ${first.id} replacement`);
}
