export * from './sizes';
export * from './select';
export * from './simulate';
export { BNB_TOTAL_TRIES } from './bnb';
export * from './origin';
