#!/usr/bin/env node
// The `sluice` command. Node 24 runs the TypeScript sources directly.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
