import { useRef, useState, type KeyboardEvent } from 'react';

const STEP: Record<string, (index: number, last: number) => number> = {
  ArrowDown: (i, last) => Math.min(last, i + 1),
  ArrowUp: (i) => Math.max(0, i - 1),
  Home: () => 0,
  End: (_i, last) => last,
  PageDown: (i, last) => Math.min(last, i + 10),
  PageUp: (i) => Math.max(0, i - 10),
};

/**
 * Roving focus over table rows: the table is one Tab stop (the last row visited), and the
 * arrow keys, Home, End and Page Up/Down move between rows.
 */
export function useRowKeys(count: number) {
  const [active, setActive] = useState(0);
  const rows = useRef<(HTMLElement | null)[]>([]);
  const current = Math.min(active, Math.max(0, count - 1));
  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    const step = STEP[event.key];
    if (!step || count === 0) return;
    event.preventDefault();
    const next = step(current, count - 1);
    setActive(next);
    rows.current[next]?.focus();
  };
  const rowProps = (index: number) => ({
    tabIndex: index === current ? 0 : -1,
    ref: (el: HTMLElement | null) => {
      rows.current[index] = el;
    },
    onFocus: () => setActive(index),
  });
  return { onKeyDown, rowProps };
}
