import { LockstoreError } from './errors.js';

/** The longest conversation id accepted, in UTF-16 code units. */
export const MAX_CONVERSATION_ID_LENGTH = 65_536;

/** The longest lifetime accepted: the largest delay a Node.js timer supports (about 24.8 days). */
export const MAX_LIFETIME_MS = 2_147_483_647;

function invalid(message: string): LockstoreError {
  return new LockstoreError('INVALID_ARGUMENT', message);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Throws `INVALID_ARGUMENT` unless `value` is a usable conversation id. */
export function checkConversationId(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw invalid(`conversationId must be a string, got ${describe(value)}`);
  if (value.length === 0) throw invalid('conversationId must not be empty');
  if (value.length > MAX_CONVERSATION_ID_LENGTH) {
    throw invalid(`conversationId is ${value.length} characters long; the limit is ${MAX_CONVERSATION_ID_LENGTH}`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is a whole number of milliseconds in [1, MAX_LIFETIME_MS]. */
export function checkLifetime(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LIFETIME_MS) {
    throw invalid(`${name} must be a whole number of milliseconds from 1 to ${MAX_LIFETIME_MS}, got ${describe(value)}`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is a non-negative number of milliseconds (Infinity allowed). */
export function checkTimeout(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw invalid(`${name} must be a number of milliseconds >= 0 (or Infinity), got ${describe(value)}`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is an object (options bag) or undefined. */
export function checkOptionsObject(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw invalid(`${name} must be an object, got ${describe(value)}`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is undefined or of the given kind. */
export function checkOptional(name: string, value: unknown, kind: 'boolean' | 'function' | 'AbortSignal'): void {
  if (value === undefined) return;
  const ok = kind === 'AbortSignal' ? value instanceof AbortSignal : typeof value === kind;
  if (!ok) throw invalid(`${name} must be ${kind === 'AbortSignal' ? 'an AbortSignal' : `a ${kind}`}, got ${describe(value)}`);
}
