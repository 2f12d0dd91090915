/**
 * What one panel tells the others. A panel publishes what it produced (a ciphertext, a signature,
 * the key list) without knowing who uses it; a panel that wants it subscribes. A new panel is
 * wired by subscribing, with no change to the panel that publishes.
 * @module
 */
import type { Algorithm, HashAlgorithm, KeyInfo } from 'qpher';
import type { ActiveBackend } from './state.js';

export interface PlaygroundEvents {
  /** The backend changed; `note` says why there is none. */
  backend: { current: ActiveBackend; note?: undefined } | { current: undefined; note: string };
  /** The key table was (re)drawn from these keys. */
  keys: readonly KeyInfo[];
  /**
   * A ciphertext to decrypt, with what it needs; `focus` moves the keyboard to it. `algorithm` is
   * the key's (absent when the page does not know it: a pasted public key).
   */
  ciphertext: { ciphertext: string; key_version: number; algorithm?: Algorithm; aad: string; focus: boolean };
  /** A signature to verify, with the message and context it was made over (as typed). */
  signature: { message: string; signature: string; key_version: number; algorithm: Algorithm; context: string };
  /** A KEM ciphertext to decapsulate, and the secret it was made with (to compare). */
  'kem-ciphertext': { kem_ciphertext: string; shared_secret: string; key_version: number; algorithm: Algorithm };
  /** A wrapped key to unwrap. */
  'wrapped-key': { wrapped_key: string; key_version: number; algorithm: Algorithm };
  /** A digest signature to verify, with the message (as typed) whose digest was signed. */
  'hash-signature': {
    message: string;
    hash_algorithm: HashAlgorithm;
    signature: string;
    key_version: number;
    algorithm: Algorithm;
    context: string;
  };
  /** A person chose this key's public key for the public-key tools. */
  'public-key': KeyInfo;
}

type Listener<T> = (value: T) => void;

export class EventHub<Events> {
  readonly #listeners = new Map<keyof Events, Listener<never>[]>();

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.#listeners.set(event, list);
  }

  emit<E extends keyof Events>(event: E, value: Events[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) (listener as Listener<Events[E]>)(value);
  }
}
