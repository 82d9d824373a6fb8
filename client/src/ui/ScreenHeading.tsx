import { type ReactNode, useEffect, useRef } from 'react';

/**
 * A screen's title that takes the focus when it appears: the button that led to the screen is usually gone with
 * the old one, and a screen reader starts reading at the new title. Give it a new `key` to move the focus again
 * when a screen's step changes in place.
 */
export function ScreenHeading({ children }: { children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children}
    </h1>
  );
}
