import { useEffect } from 'react';
import { usePendingStore } from '../../stores/pending-store';

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** j/k or ↓/↑ move, a approves, d denies, e toggles escapes. Enter and Esc belong to the dialog. */
export function usePendingKeys(active: boolean): void {
  useEffect(() => {
    if (!active) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      if (isTyping(event.target)) return;
      const store = usePendingStore.getState();
      if (store.dialog) return;
      switch (event.key) {
        case 'j':
        case 'ArrowDown':
          store.move(1);
          break;
        case 'k':
        case 'ArrowUp':
          store.move(-1);
          break;
        case 'a':
          store.openDialog('approve');
          break;
        case 'd':
          store.openDialog('deny');
          break;
        case 'e':
          store.toggleEscaped();
          break;
        case 'x':
          // Extending needs the proposal on screen to be pending; the store checks with the core.
          if (store.items.some((p) => p.id === store.selectedId)) void store.extend();
          break;
        default:
          return;
      }
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [active]);
}
