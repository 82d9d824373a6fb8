/** A labelled input with its error beside it, wired for screen readers (aria-invalid, aria-describedby). */
import { type ComponentProps, useId } from 'react';

interface Common {
  label: string;
  error?: string | undefined;
  hint?: string;
}

export function TextField({ label, error, hint, ...input }: Common & ComponentProps<'input'>) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} dir="auto" aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {sentence(label, error)}
        </p>
      )}
    </div>
  );
}

export function TextAreaField({ label, error, hint, ...input }: Common & ComponentProps<'textarea'>) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} dir="auto" aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {sentence(label, error)}
        </p>
      )}
    </div>
  );
}

/** The API's field messages are phrases ("must be …"); in the form they read as sentences about the field. */
export function sentence(label: string, message: string): string {
  return /^[a-z]/.test(message) ? `${label.replace(/ \(optional\)$/, '')} ${message}` : message;
}
