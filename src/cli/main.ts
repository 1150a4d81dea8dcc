import { createContext, runCli } from './program';

const code = await runCli(process.argv.slice(2), createContext(process.env));
// Long-running commands (serve, up) keep the event loop alive and never get here until stopped.
process.exitCode = code;
