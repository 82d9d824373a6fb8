import { type RefObject, useEffect } from 'react';

/**
 * After a refusal, puts the keyboard where the problem is: the first invalid field, or else the form's message
 * (a button disabled while the request was on its way has dropped the focus).
 */
export function useFocusOnProblem(form: RefObject<HTMLFormElement | null>, error: unknown): void {
  useEffect(() => {
    if (error) form.current?.querySelector<HTMLElement>('[aria-invalid="true"], .form-error')?.focus();
  }, [form, error]);
}
