import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../api/client';
import { TaskItem } from './TaskItem';

const task: Task = {
  id: 3,
  title: 'Water the plants',
  description: 'Balcony first',
  completed: false,
  due_on: null,
  created_at: '2026-11-24T10:00:00.000Z',
  updated_at: '2026-11-24T10:00:00.000Z',
};

function renderItem(onDelete: (task: Task) => void = () => {}) {
  return render(
    <QueryClientProvider client={new QueryClient()}>
      <ul>
        <TaskItem task={task} today="2026-11-24" onDelete={onDelete} />
      </ul>
    </QueryClientProvider>,
  );
}

afterEach(cleanup);

describe('a task in the list', () => {
  it('is a checkbox named by its title, with Edit and Delete buttons that say which task', () => {
    renderItem();
    expect((screen.getByRole('checkbox', { name: 'Water the plants' }) as HTMLInputElement).checked).toBe(false);
    expect(screen.getByRole('button', { name: 'Edit “Water the plants”' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Delete “Water the plants”' })).toBeTruthy();
    expect(screen.getByText('Balcony first')).toBeTruthy();
  });

  it('edits in place from the keyboard: Enter opens the editor on the title, Escape leaves it and returns focus', async () => {
    const user = userEvent.setup();
    renderItem();
    const edit = screen.getByRole('button', { name: 'Edit “Water the plants”' });
    edit.focus();
    await user.keyboard('{Enter}');
    const title = screen.getByRole('textbox', { name: 'Title' });
    expect(document.activeElement).toBe(title);
    expect((title as HTMLInputElement).value).toBe('Water the plants');
    expect(screen.getByRole('textbox', { name: 'Details' })).toBeTruthy();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('textbox', { name: 'Title' })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Edit “Water the plants”' }));
  });

  it('asks the list to delete it (the list owns undo)', async () => {
    const user = userEvent.setup();
    const deleted: Task[] = [];
    renderItem((t) => deleted.push(t));
    await user.click(screen.getByRole('button', { name: 'Delete “Water the plants”' }));
    expect(deleted).toEqual([task]);
  });
});
