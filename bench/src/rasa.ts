// Rasa's RedisLockStore algorithm, ported for comparison as documented: the ticket list is JSON kept
// with plain GET/SET (each ticket a JSON string inside it), waiters poll every second, and nothing is
// atomic. Ported faithfully, weaknesses included; it is a baseline, not something to use.
import type { Redis } from 'ioredis';

interface Ticket {
  number: number;
  expires: number;
}

/** JSON as Python's `json.dumps` writes it by default: `", "` and `": "` separators. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const now = () => Date.now() / 1000;

export class RasaLockStore {
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix = '',
    private readonly waitSeconds = 1,
  ) {}

  private key(id: string): string {
    return `${this.keyPrefix ? `${this.keyPrefix}:` : ''}lock:${id}`;
  }

  private async getLock(id: string): Promise<Ticket[] | undefined> {
    const raw = await this.client.get(this.key(id));
    if (raw === null) return undefined;
    const parsed = JSON.parse(raw) as { tickets: string[] };
    return parsed.tickets.map((t) => JSON.parse(t) as Ticket);
  }

  private async saveLock(id: string, tickets: Ticket[]): Promise<void> {
    const encoded = tickets.map((t) => pythonJson({ number: t.number, expires: t.expires }));
    await this.client.set(this.key(id), pythonJson({ conversation_id: id, tickets: encoded }));
  }

  private static live(tickets: Ticket[]): Ticket[] {
    return tickets.filter((t) => t.expires > now());
  }

  private async issueTicket(id: string, lifetime: number): Promise<number> {
    const tickets = RasaLockStore.live((await this.getLock(id)) ?? []);
    const number = tickets.length === 0 ? 0 : tickets.at(-1)!.number + 1;
    tickets.push({ number, expires: now() + lifetime });
    await this.saveLock(id, tickets);
    return number;
  }

  /** Rasa's `lock()`: issue, then poll until our ticket is served. Returns the release (Rasa's `finally`). */
  async lock(id: string, lifetime = 60): Promise<() => Promise<void>> {
    const ticket = await this.issueTicket(id, lifetime);
    for (;;) {
      const tickets = await this.getLock(id);
      if (tickets === undefined) throw new Error(`Could not acquire lock for conversation_id '${id}'.`);
      const serving = RasaLockStore.live(tickets)[0]?.number ?? 0;
      if (serving === ticket) break;
      await sleep(this.waitSeconds * 1000);
      const current = await this.getLock(id);
      if (current !== undefined) await this.saveLock(id, RasaLockStore.live(current));
    }
    return async () => {
      const tickets = await this.getLock(id);
      if (tickets !== undefined) await this.saveLock(id, tickets.filter((t) => t.number !== ticket));
      const after = await this.getLock(id);
      if (after === undefined || after.length === 0) await this.client.del(this.key(id));
    };
  }
}
