#!/usr/bin/env node
import { runCli } from '../src/cli.ts';

const code = await runCli(process.argv.slice(2));
// Everything is stopped: nothing left is worth waiting for.
process.exit(code);
