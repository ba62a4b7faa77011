// Normalizing whatever a command rejected with into a `CommandError` (pure; used by ipc.ts).
import type { CommandError } from '../bindings/CommandError';
import type { FieldError } from '../bindings/FieldError';

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Record<string, unknown>;
  return typeof f.field === 'string';
}

/** Turns whatever a command rejected with into a `CommandError`. */
export function toCommandError(err: unknown): CommandError {
  if (typeof err === 'object' && err !== null && 'kind' in err) {
    const e = err as Record<string, unknown>;
    const fields = Array.isArray(e.fields) ? e.fields.filter(isFieldError) : [];
    return {
      kind: String(e.kind),
      message: typeof e.message === 'string' ? e.message : String(e.message ?? ''),
      fields: fields.map((f) => ({
        field: f.field,
        code: String(f.code ?? ''),
        message_vi: String(f.message_vi ?? ''),
        message_en: String(f.message_en ?? ''),
      })),
    };
  }
  return { kind: 'internal', message: String(err), fields: [] };
}

/** Whether a value already has the shape of a `CommandError`. */
export function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CommandError).kind === 'string' &&
    typeof (value as CommandError).message === 'string' &&
    Array.isArray((value as CommandError).fields)
  );
}
