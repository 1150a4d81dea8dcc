export * from './errors';
export * from './clock';
export * from './random';
export * from './money';
export * from './ids';
export * from './config';
export * from './caller';
export * from './paths';
