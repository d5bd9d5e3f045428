import { MemoryBackend } from '@lockstore/memory';
import { lockStoreSuite } from '../src/index.js';

lockStoreSuite({
  factory: ({ clock }) => new MemoryBackend({ clock }),
  leftovers: (backend) => (backend as MemoryBackend).size,
});
