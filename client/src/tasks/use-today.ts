/** The reader's local calendar date (YYYY-MM-DD), which moves on at local midnight while the screen is open. */
import { useEffect, useState } from 'react';
import { localDate, msToLocalMidnight } from './due';

export function useToday(): string {
  const [today, setToday] = useState(() => localDate());
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new day arms the timer for the next midnight.
  useEffect(() => {
    // A second past midnight, so that a timer firing a little early still lands on the new day.
    const timer = setTimeout(() => setToday(localDate()), msToLocalMidnight() + 1000);
    return () => clearTimeout(timer);
  }, [today]);
  return today;
}
