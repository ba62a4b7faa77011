// Field errors: which message to show, next to which field.
import type { CommandError } from '../bindings/CommandError';
import { toCommandError } from './commandError';
import type { FieldError } from '../bindings/FieldError';
import { translate, type Locale, type MessageKey } from '../i18n/messages';

/** The message of a field error in `locale`. */
export function fieldErrorMessage(error: FieldError, locale: Locale): string {
  return locale === 'en' ? error.message_en || error.message_vi : error.message_vi || error.message_en;
}

/** The errors about `field`. */
export function errorsFor(errors: readonly FieldError[], field: string): FieldError[] {
  return errors.filter((e) => e.field === field);
}

/** A field error made on the device, with both languages from the message files. */
export function clientFieldError(field: string, key: MessageKey, code = 'required'): FieldError {
  return { field, code, message_vi: translate('vi', key), message_en: translate('en', key) };
}

/** What a form shows after a failed save: errors next to its fields, and a message above. */
export interface FormErrors {
  /** Errors about fields this form shows. */
  fields: FieldError[];
  /** Errors about fields this form does not show, shown with the form message. */
  other: FieldError[];
  /** The form-level message, if any. */
  message: string | null;
}

/** Splits a command error into field errors (for `known` fields) and a form message. */
export function splitCommandError(error: CommandError | unknown, known: readonly string[]): FormErrors {
  const err = toCommandError(error);
  const fields = err.fields.filter((f) => known.includes(f.field));
  const other = err.fields.filter((f) => !known.includes(f.field));
  // With only field errors, the fields say it all; otherwise show the command's message.
  const message = fields.length > 0 && other.length === 0 ? null : err.message || null;
  return { fields, other, message };
}

/** No errors. */
export const NO_ERRORS: FormErrors = { fields: [], other: [], message: null };

/** Field errors a form opens with (the server's reasons for a record it rejected), split as
 *  after a failed save: those about `known` fields at their fields, the rest above the button. */
export function shownErrors(errors: readonly FieldError[], known: readonly string[]): FormErrors {
  return {
    fields: errors.filter((f) => known.includes(f.field)),
    other: errors.filter((f) => !known.includes(f.field)),
    message: null,
  };
}

/** After a failed save, moves focus (and the view) to the form's first invalid field or its
 * form-level error, once the DOM shows them. `form` is a CSS selector of the form's root. */
export function focusFirstError(form: string): void {
  queueMicrotask(() => {
    const el = document.querySelector<HTMLElement>(`${form} [aria-invalid="true"], ${form} #form-error`);
    el?.focus?.();
    el?.scrollIntoView?.({ block: 'center' });
  });
}
