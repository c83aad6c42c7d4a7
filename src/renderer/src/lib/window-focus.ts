/**
 * Whether the operator is looking at the console window, from the window's own focus and blur
 * events (document.hasFocus() at load). Used to ask for an OS notification only when needed.
 */
let focused = typeof document === 'undefined' ? true : document.hasFocus();

export function windowFocused(): boolean {
  return focused;
}

/** Starts following focus; returns a function that stops it. */
export function watchWindowFocus(): () => void {
  const onFocus = (): void => {
    focused = true;
  };
  const onBlur = (): void => {
    focused = false;
  };
  window.addEventListener('focus', onFocus);
  window.addEventListener('blur', onBlur);
  return () => {
    window.removeEventListener('focus', onFocus);
    window.removeEventListener('blur', onBlur);
  };
}
