/**
 * The cleared share of an output at decision time: `npx tsx bench/clearing.bench.ts`.
 *
 * On an embedded database, 20 blocks mined to a registered miner (one inside a ban) and a block
 * whose chain of 40 transactions passes their coins on hop after hop (each hop also mixing in
 * untraced coins), fed to the real mining and clearing consumers. Then, for the last output of
 * the chain, the cleared share read as coin selection reads it (one primary-key lookup of the
 * stored clearance) against the reference: mining's provenance of the same output, which walks
 * the path back to the coinbases (what a decision would cost without stored shares). Both
 * measured in this run; medians of RUNS reads each.
 */
import { ClearingService } from '../src/clearing';
import { openDatabase } from '../src/db';
import { parseAddress } from '../src/bitcoin';
import { ManualClock, SeededRandom, systemCaller, type Caller } from '../src/kernel';
import type { ChainBlock, ChainTransaction } from '../src/chain';
import { MiningService } from '../src/mining';
import { RegistryService } from '../src/registry';

const COINBASES = 20;
const HOPS = 40;
const RUNS = 200;
const SUBSIDY = 5_000_000_000n;
// Two regtest P2WPKH addresses (BIP173 test vectors' program, regtest prefix).
const MINER = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const OTHER = 'bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry';

const hex = (n: number) => n.toString(16).padStart(64, '0');
const median = (values: number[]) => values.slice().sort((a, b) => a - b)[values.length >> 1]!;

const db = await openDatabase({ dataDir: 'memory://' });
await db.migrate();
const clock = new ManualClock('2026-06-01T00:00:00Z');
const random = new SeededRandom(9);
const registry = new RegistryService({ db, clock, random, network: 'regtest' });
const mining = new MiningService({ db, clock, random, network: 'regtest', registry });
const clearing = new ClearingService({ db, clock, random, wallets: registry });
const supervisor = systemCaller('bench');

const miner = await registry.registerParticipant(supervisor, {
  kind: 'miner',
  legalName: 'Bench Hash',
  country: 'PK',
});
const minerCaller: Caller = { ...supervisor, role: 'miner', participantId: miner.id };
await registry.grantLicence(supervisor, {
  participantId: miner.id,
  kind: 'mining',
  scope: 'mining',
  validFrom: '2026-01-01T00:00:00Z',
  validTo: '2030-01-01T00:00:00Z',
});
await registry.createRegion(supervisor, { code: 'north', name: 'North', timeZone: 'UTC' });
await mining.declareBan(supervisor, 'north', {
  kind: 'full',
  from: '2026-06-20',
  to: '2026-06-20',
  reason: 'one day of grid maintenance',
});
const site = await mining.registerSite(minerCaller, {
  regionCode: 'north',
  name: 'Bench site',
  gridConnection: '110 kV',
  powerCapacityMw: '10',
  declaredHashrateThs: '1000',
  commissioningDate: '2026-01-01',
});
await mining.registerPayoutAddress(minerCaller, site.id, { address: MINER, kind: 'solo' });

const minerScript = parseAddress(MINER, 'regtest').scriptPubKey;
const otherScript = parseAddress(OTHER, 'regtest').scriptPubKey;
// Untraced coins mixed in at each hop: the block carries their values, as every input's.
const consumers = [mining.chainConsumer(), clearing.chainConsumer()];
const connect = (block: Omit<ChainBlock, 'previousHash' | 'complete'>) =>
  db.transaction(async (tx) => {
    for (const consumer of consumers)
      await consumer.blockConnected({ ...block, previousHash: null, complete: true }, tx);
  });

for (let i = 1; i <= COINBASES; i++) {
  await connect({
    hash: hex(0xb000 + i),
    height: i,
    time: Date.parse(`2026-06-${String(i + 5).padStart(2, '0')}T12:00:00Z`) / 1000,
    transactions: [
      {
        txid: hex(i),
        coinbase: true,
        inputs: [],
        outputs: [{ vout: 0, valueSats: SUBSIDY, script: minerScript, address: MINER }],
      },
    ],
  });
}
const chain: ChainTransaction[] = [];
let previous: { txid: string; vout: number; value: bigint }[] = Array.from(
  { length: COINBASES },
  (_, i) => ({ txid: hex(i + 1), vout: 0, value: SUBSIDY }),
);
for (let hop = 0; hop < HOPS; hop++) {
  const outside = { txid: hex(0xe000 + hop), vout: 0, value: 1_000_000n };
  const inputs = [...previous, outside];
  const total = inputs.reduce((sum, input) => sum + input.value, 0n);
  const out = total - 10_000n;
  const txid = hex(0xa000 + hop);
  chain.push({
    txid,
    coinbase: false,
    inputs: inputs.map(({ txid: t, vout, value }) => ({
      txid: t,
      vout,
      prevout: { valueSats: value, script: otherScript, address: OTHER },
    })),
    outputs: [
      { vout: 0, valueSats: out - 50_000n, script: otherScript, address: OTHER },
      { vout: 1, valueSats: 50_000n, script: otherScript, address: OTHER },
    ],
  });
  previous = [{ txid, vout: 0, value: out - 50_000n }];
}
await connect({
  hash: hex(0xc000),
  height: COINBASES + 1,
  time: Date.parse('2026-06-30T00:00:00Z') / 1000,
  transactions: chain,
});
const last = previous[0]!;

const lookupMs: number[] = [];
const walkMs: number[] = [];
let share = 0;
let nodes = 0;
for (let run = 0; run < RUNS; run++) {
  let started = performance.now();
  share = (await clearing.clearedShare(supervisor, last.txid, last.vout)).clearedShareBasisPoints;
  lookupMs.push(performance.now() - started);
  started = performance.now();
  const report = await mining.provenance(supervisor, last.txid, last.vout);
  walkMs.push(performance.now() - started);
  const count = (node: typeof report.path): number =>
    1 + node.from.reduce((sum, child) => sum + count(child), 0);
  nodes = count(report.path);
}
const ours = median(lookupMs);
const reference = median(walkMs);
console.log(
  `output ${HOPS} hops from ${COINBASES} coinbases (one quarantined): cleared share ${share} basis points`,
);
console.log(
  `stored cleared share: median ${ours.toFixed(3)} ms per read (one indexed lookup); ` +
    `reference, provenance walk over ${nodes} outputs: median ${reference.toFixed(3)} ms; ` +
    `ratio ${(reference / ours).toFixed(1)}× faster`,
);
await db.close();
