import type { SeededRandom } from '../../kernel';
import { BuyerWallet, demoKey } from '../wallet';
import type { DemoPorts, DemoProgress, MinerActor } from './types';

/** The chain side of the replay: buyers' coins, blocks paying miners, reorgs. */
export class Replay {
  readonly buyers: BuyerWallet;
  readonly outsider = demoKey('foreign pool');

  constructor(
    readonly ports: DemoPorts,
    readonly random: SeededRandom,
    readonly progress: DemoProgress,
    /** The registered miners' pools, paid by most blocks (the rest go to a foreign pool). */
    readonly miners: readonly MinerActor[],
  ) {
    this.buyers = new BuyerWallet(ports.simnet);
  }

  /** 120 blocks to the buyers' wallet (their coinbases mature), split into many coins. */
  async fundBuyers(): Promise<void> {
    this.progress.phase('mining the first blocks (funding the foreign buyers)', 121);
    for (let i = 0; i < 120; i++) {
      await this.ports.simnet.mine(1, this.buyers.key.script);
      this.ports.clock.advance(60_000);
      if (i % 10 === 9) {
        await this.ports.watcher.syncOnce();
        this.progress.update(i + 1);
      }
    }
    this.buyers.load();
    await this.buyers.split(20, 10);
    await this.mine(1, 60_000);
    this.progress.update(121);
  }

  /** Mines `count` blocks `stepMs` apart, mostly to registered miners' pools, and follows them. */
  async mine(count: number, stepMs: number): Promise<void> {
    const miners = this.miners;
    for (let i = 0; i < count; i++) {
      const payTo =
        miners.length > 0 && this.random.next() < 0.75
          ? miners[this.random.int(0, miners.length - 1)]!.script
          : this.outsider.script;
      await this.ports.simnet.mine(1, payTo);
      await this.ports.watcher.syncOnce();
      this.ports.clock.advance(stepMs);
    }
  }

  /** A one-block reorganization: the tip is replaced by a longer branch of two blocks. */
  async reorg(): Promise<void> {
    const tip = this.ports.simnet.tip();
    await this.ports.simnet.invalidateBlock(tip.hash);
    await this.mine(2, 10 * 60_000);
  }
}
