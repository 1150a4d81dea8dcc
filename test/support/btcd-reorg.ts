import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * btcd's reorganization test blocks (btcd blockchain/testdata/reorgtest: blk_0_to_4.dat,
 * blk_3A.dat, blk_4A.dat, blk_5A.dat; annotated in reorgtest.hex). Block 0 is the real mainnet
 * genesis block (hash from Bitcoin Core chainparams.cpp); the other hashes were computed with
 * bitcoinjs-lib, an implementation independent of ours, and the parent links read from the
 * headers in reorgtest.hex. Block 3A forks from block 2; 5A makes that branch the longest.
 */
export const BTCD_REORG_DIR = path.resolve(
  import.meta.dirname,
  '../vectors/bitcoin/blocks/btcd-reorg',
);

export function readBtcdReorgFile(
  name: 'blk_0_to_4.dat' | 'blk_3A.dat' | 'blk_4A.dat' | 'blk_5A.dat',
): Uint8Array {
  return new Uint8Array(readFileSync(path.join(BTCD_REORG_DIR, name)));
}

export const BTCD_REORG = {
  main: [
    '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
    '00000000ebe5ec3e94d8dfe18100e5c0f3b1955bc6107fbe24d95732b814551b',
    '00000000952ccb1bf9b799fcd0cc654dd48363f76781f8b1c61dbf1696c39f97',
    '00000000bc3589303953766cc9364130cb97bc3749bae170f476d45f1e23f850',
    '000000002f264d6504013e73b9c913de9098d4d771c1bb219af475d2a01b128e',
  ],
  /** Heights 3, 4, 5 of the competing branch. */
  fork: [
    '00000000474284d20067a4d33f6a02284e6ef70764a3a26d6a5b9df52ef663dd',
    '00000000551dc04c148242d1f648802577df8cf7d4e1b469211016280204a2bf',
    '00000000195f85184e77c18914bd0febd11278d950f5e4731a38f71ed79f044e',
  ],
  /** Transactions per block, main chain then fork, as counted in reorgtest.hex. */
  txCounts: { main: [1, 1, 2, 3, 2], fork: [3, 1, 2] },
  /** The genesis coinbase txid (Bitcoin Core chainparams.cpp, the genesis merkle root). */
  genesisCoinbaseTxid: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
} as const;
