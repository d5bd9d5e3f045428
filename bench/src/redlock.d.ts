// redlock 5's package.json exports no types for NodeNext resolution; this declares what the bench uses.
declare module 'redlock' {
  import type { EventEmitter } from 'node:events';
  import type { Redis } from 'ioredis';

  export interface Lock {
    release(): Promise<unknown>;
  }

  export default class Redlock extends EventEmitter {
    constructor(clients: Iterable<Redis>, settings?: Record<string, number>);
    acquire(resources: string[], duration: number): Promise<Lock>;
  }
}
