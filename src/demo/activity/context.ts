import type { BuyerWallet } from '../wallet';
import type { Cast } from './read-cast';
import type { ActivityPorts } from './types';

/** What an action works with: the ports, the cast as last read, the buyers' wallet, the rate. */
export interface ActionContext {
  readonly ports: ActivityPorts;
  readonly cast: Cast;
  readonly buyers: BuyerWallet;
  /** The desk's USD rate this step, whole dollars per BTC. */
  readonly rate: number;
}
