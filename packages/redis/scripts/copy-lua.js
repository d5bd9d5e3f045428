// The Lua scripts ship next to the compiled code that loads them.
import { cpSync } from 'node:fs';
import { URL } from 'node:url';

cpSync(new URL('../src/lua', import.meta.url), new URL('../dist/lua', import.meta.url), { recursive: true });
