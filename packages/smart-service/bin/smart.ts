#!/usr/bin/env node
// `smart`: turns on Node's module compile cache (in NODE_COMPILE_CACHE, else
// the temp folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off) before loading
// the commands, so every run after the first starts from compiled code: the
// cache covers the modules loaded after this line, hence the dynamic import.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./smart-commands.ts');
