/** A new password typed twice, with the rules as a hint; shared by the reset screen and "Change password". */
import { PASSWORD_MIN } from '../api/limits';
import { TextField } from '../ui/Field';

export const PASSWORD_HINT = `At least ${PASSWORD_MIN} characters; not a common password.`;
export const MISMATCH = 'The two passwords do not match.';

interface Props {
  password: string;
  confirmation: string;
  onPassword: (value: string) => void;
  onConfirmation: (value: string) => void;
  passwordError?: string | undefined;
  confirmationError?: string | undefined;
}

export function NewPasswordFields(props: Props) {
  return (
    <>
      <TextField
        label="New password"
        type="password"
        name="new-password"
        autoComplete="new-password"
        required
        value={props.password}
        onChange={(event) => props.onPassword(event.target.value)}
        error={props.passwordError}
        hint={PASSWORD_HINT}
      />
      <TextField
        label="Repeat the new password"
        type="password"
        name="confirm-password"
        autoComplete="new-password"
        required
        value={props.confirmation}
        onChange={(event) => props.onConfirmation(event.target.value)}
        error={props.confirmationError}
      />
    </>
  );
}
