import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../api/client';
import { NewTaskForm } from '../tasks/NewTaskForm';
import { TaskItem } from '../tasks/TaskItem';
import { enterAccount, forgetKeptWork, keptEmail, sessionLost } from './kept-work';

const task: Task = {
  id: 7,
  title: 'Water the plants',
  description: '',
  completed: false,
  due_on: null,
  created_at: '2026-11-24T10:00:00.000Z',
  updated_at: '2026-11-24T10:00:00.000Z',
};

function renderTasks() {
  return render(
    <QueryClientProvider client={new QueryClient()}>
      <NewTaskForm onAdded={() => {}} />
      <ul>
        <TaskItem task={task} today="2026-11-24" onDelete={() => {}} />
      </ul>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  forgetKeptWork();
});

describe('work typed when the session ends', () => {
  it('comes back for the same account: the new task, the open edit and the email (e2e: the login form shows it)', async () => {
    const user = userEvent.setup();
    enterAccount('ada@example.com');
    const first = renderTasks();
    await user.type(screen.getByRole('textbox', { name: 'New task' }), 'Buy stamps');
    await user.click(screen.getByRole('button', { name: 'Add details' }));
    await user.type(screen.getByRole('textbox', { name: 'Details (optional)' }), 'The blue ones');
    await user.click(screen.getByRole('button', { name: 'Edit “Water the plants”' }));
    const editTitle = screen.getByRole('textbox', { name: 'Title' });
    await user.clear(editTitle);
    await user.type(editTitle, 'Water the ferns');

    // The session ends: the screen goes, the login form comes.
    sessionLost();
    first.unmount();
    expect(keptEmail()).toBe('ada@example.com');

    enterAccount('ada@example.com');
    renderTasks();
    expect((screen.getByRole('textbox', { name: 'New task' }) as HTMLInputElement).value).toBe('Buy stamps');
    expect((screen.getByRole('textbox', { name: 'Details (optional)' }) as HTMLTextAreaElement).value).toBe(
      'The blue ones',
    );
    expect((screen.getByRole('textbox', { name: 'Title' }) as HTMLInputElement).value).toBe('Water the ferns');
    expect(keptEmail()).toBeUndefined();

    // Cancelling the edit finishes it: it does not come back again.
    await user.keyboard('{Escape}');
    cleanup();
    renderTasks();
    expect(screen.queryByRole('textbox', { name: 'Title' })).toBeNull();
  });

  it('is never shown to another account', async () => {
    const user = userEvent.setup();
    enterAccount('ada@example.com');
    const first = renderTasks();
    await user.type(screen.getByRole('textbox', { name: 'New task' }), 'Private plans');
    sessionLost();
    first.unmount();

    enterAccount('bob@example.com');
    renderTasks();
    expect((screen.getByRole('textbox', { name: 'New task' }) as HTMLInputElement).value).toBe('');
    cleanup();
    // Nor to Ada afterwards: Bob's login emptied it.
    enterAccount('ada@example.com');
    renderTasks();
    expect((screen.getByRole('textbox', { name: 'New task' }) as HTMLInputElement).value).toBe('');
  });

  it('is forgotten when the person logs out on purpose', async () => {
    const user = userEvent.setup();
    enterAccount('ada@example.com');
    const first = renderTasks();
    await user.type(screen.getByRole('textbox', { name: 'New task' }), 'Draft');
    first.unmount();
    forgetKeptWork();
    expect(keptEmail()).toBeUndefined();
    enterAccount('ada@example.com');
    renderTasks();
    expect((screen.getByRole('textbox', { name: 'New task' }) as HTMLInputElement).value).toBe('');
  });
});
