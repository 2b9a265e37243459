/**
 * Schema building blocks shared by the root config and every exporter's schema.
 * They are plain TypeBox (= JSON Schema) with two annotations the loader acts on:
 * `x-duration` (converted to milliseconds after validation) and `x-secret` (shown as
 * <secret> wherever a config is printed or logged).
 */
import { Type, type TSchema, type TString } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../duration.js';

/** Instance and set names: short, label-safe, stable. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';

/** A Prometheus-style duration string; the loader hands the exporter milliseconds. */
export function Duration(options: { default?: string; description: string }): TString {
  return Type.String({ pattern: DURATION_PATTERN, 'x-duration': true, ...options });
}

/** A string that must never be printed or logged. */
export function Secret(description: string): TString {
  return Type.String({ 'x-secret': true, description, minLength: 1 });
}

/** A path to a file holding a secret; the loader checks that it can be read. */
export function SecretFile(description: string): TString {
  return Type.String({ 'x-secret-file': true, description, minLength: 1 });
}

/** A string limited to a few values; the error lists them. */
export function StringEnum<T extends string>(
  values: readonly T[],
  options: { default?: T; description: string },
): TSchema {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** A name usable as a label value. */
export function Name(description: string): TString {
  return Type.String({ pattern: NAME_PATTERN, description });
}
