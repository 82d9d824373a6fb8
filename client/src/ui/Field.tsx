/** A labelled input with its error beside it, wired for screen readers (aria-invalid, aria-describedby). */
import { type ComponentProps, type ReactElement, useId } from 'react';

interface Common {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
}

/** The label, hint and error around one control; `control` gets the id and the aria attributes. */
function FieldFrame({
  label,
  error,
  hint,
  control,
}: Common & { control: (aria: Record<string, string | boolean | undefined>) => ReactElement }) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {control({ id, dir: 'auto', 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy })}
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

export function TextField({ label, error, hint, ...input }: Common & ComponentProps<'input'>) {
  return <FieldFrame label={label} error={error} hint={hint} control={(aria) => <input {...aria} {...input} />} />;
}

export function TextAreaField({ label, error, hint, ...input }: Common & ComponentProps<'textarea'>) {
  return <FieldFrame label={label} error={error} hint={hint} control={(aria) => <textarea {...aria} {...input} />} />;
}

/** The API's field messages are phrases ("must be …"); in the form they read as sentences about the field. */
export function sentence(label: string, message: string): string {
  return /^[a-z]/.test(message) ? `${label.replace(/ \(optional\)$/, '')} ${message}` : message;
}
