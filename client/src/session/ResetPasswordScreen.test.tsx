import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { ResetPasswordScreen } from './ResetPasswordScreen';

const TOKEN = `icr_${'a'.repeat(43)}`;

function renderScreen(token: string | undefined) {
  const left: string[] = [];
  render(
    <QueryClientProvider client={new QueryClient()}>
      <ResetPasswordScreen
        link={{ token }}
        leaveLabel="Back to log in"
        onLeave={() => left.push('left')}
        onSignedIn={(email) => left.push(email)}
      />
    </QueryClientProvider>,
  );
  return left;
}

afterEach(cleanup);

describe('the reset screen', () => {
  it('asks for the new password twice, with the rules, and starts at its heading', () => {
    renderScreen(TOKEN);
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Choose a new password' }));
    const password = screen.getByLabelText('New password');
    expect(password.getAttribute('autocomplete')).toBe('new-password');
    expect(screen.getByText(/At least 10 characters/).id).toBe(password.getAttribute('aria-describedby'));
    expect(screen.getByLabelText('Repeat the new password').getAttribute('type')).toBe('password');
  });

  it('refuses two different passwords under the second field, without asking the server', async () => {
    const user = userEvent.setup();
    renderScreen(TOKEN);
    await user.type(screen.getByLabelText('New password'), 'a long new password');
    await user.type(screen.getByLabelText('Repeat the new password'), 'a long new pasword');
    await user.click(screen.getByRole('button', { name: 'Set the new password' }));
    const repeat = screen.getByLabelText('Repeat the new password');
    expect(repeat.getAttribute('aria-invalid')).toBe('true');
    const message = screen.getByText('The two passwords do not match.');
    expect(repeat.getAttribute('aria-describedby')).toContain(message.id);
    expect(document.activeElement).toBe(repeat);
    // Typing again takes the complaint away.
    await user.type(repeat, 'x');
    expect(screen.queryByText('The two passwords do not match.')).toBeNull();
  });

  it('a cut-short link says so at once and offers a new one', async () => {
    const user = userEvent.setup();
    const left = renderScreen(undefined);
    expect(document.activeElement).toBe(
      screen.getByRole('heading', { name: 'This reset link is invalid or has expired' }),
    );
    expect(screen.getByText(/cut short/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Send me a new link' }));
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Reset your password' }));
    expect(screen.getByLabelText('Email')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Back to log in' }));
    expect(left).toEqual(['left']);
  });
});
