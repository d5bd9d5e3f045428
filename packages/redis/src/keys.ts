/**
 * Encodes a conversation id for use inside a Redis key: letters, digits, `_`, `.` and `-` stay as
 * they are; every other UTF-16 code unit becomes `%XX` (below 0x100) or `%uXXXX`. The encoding is
 * injective — `%` itself is encoded — so no two ids share keys, and it contains no `{`, `}`, `:`,
 * `*`, `?` or `[`, so no id can break out of its hash tag or its prefix, or act as a glob.
 */
export function encodeConversationId(conversationId: string): string {
  return conversationId.replace(/[^A-Za-z0-9_.-]/g, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x100 ? `%${code.toString(16).padStart(2, '0')}` : `%u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The keys and channels of one store, derived from its `key_prefix`. */
export class KeySpace {
  readonly #base: string;
  /** Prefix of the channels on which each process is told of its grants. */
  readonly inboxPrefix: string;

  /** @param keyPrefix the alphanumeric `key_prefix`, or undefined for none (as Rasa). */
  constructor(keyPrefix: string | undefined) {
    this.#base = keyPrefix ? `${keyPrefix}:lock:` : 'lock:';
    this.inboxPrefix = `${this.#base}inbox:`;
  }

  /**
   * A conversation's key: one hash holding its queue and its last fence. The `{<id>}` hash tag keeps
   * it in one Cluster slot under any future split into several keys.
   */
  conversation(conversationId: string): string {
    return `${this.#base}{${encodeConversationId(conversationId)}}`;
  }

  /** A pattern matching every key of this store, for tests and maintenance tools. Never used by the store. */
  get pattern(): string {
    return `${this.#base}*`;
  }
}
