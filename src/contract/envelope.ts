/**
 * The response envelope, built here and nowhere else. Every backend (in-process engine, Worker,
 * remote client) and the server produce envelopes through these two functions, which is what
 * makes their shapes identical. Types come from the schemas by a type-only import, so this module
 * costs no zod in a bundle.
 * @module
 */
import type { z } from 'zod/mini';
import type { ErrorCode } from './codes.js';
import type { ErrorEnvelopeSchema } from './schemas.js';

export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;
export interface SuccessEnvelope<T = unknown> {
  data: T;
  request_id: string;
  timestamp: string;
}
export type Envelope<T = unknown> = SuccessEnvelope<T> | ErrorEnvelope;

export function successEnvelope<T>(data: T, requestId: string, now: Date = new Date()): SuccessEnvelope<T> {
  return { data, request_id: requestId, timestamp: now.toISOString() };
}

/**
 * `error.code` is this API's field; `error.error_code` carries the same value for the published
 * Qpher SDKs, which read that one. Both, always, from here.
 */
export function errorEnvelope(code: ErrorCode, message: string, requestId: string, now: Date = new Date()): ErrorEnvelope {
  return { error: { code, error_code: code, message }, request_id: requestId, timestamp: now.toISOString() };
}

export function isErrorEnvelope(envelope: Envelope): envelope is ErrorEnvelope {
  return 'error' in envelope;
}
