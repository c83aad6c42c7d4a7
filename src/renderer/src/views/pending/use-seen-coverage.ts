import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

/** Pixels of the request that may stay unseen (sub-pixel rounding, a border). */
const SLACK_PX = 2;

/**
 * How long the box must stay still before what it shows counts as seen. Chromium animates
 * keyboard and wheel scrolling, so `End` sweeps through every line in a few frames; counting
 * those frames would count the middle as read after a jump. Text is read at rest, and the
 * shortest rest worth calling reading is far longer than a frame, even on a loaded machine.
 */
export const SETTLE_MS = 250;

/** Set on the scrolled element while a scroll has not settled yet (what it shows does not count yet). */
export const SETTLING_ATTRIBUTE = 'data-settling';

function merge(spans: [number, number][], next: [number, number]): [number, number][] {
  const all = [...spans, next].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const span of all) {
    const last = out[out.length - 1];
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else out.push([span[0], span[1]]);
  }
  return out;
}

/**
 * How much of a scrollable element's content has not been on screen yet (0 to 1), counting
 * only what was actually visible: inside the element's box, the window and the dialog around
 * it, and only where it came to rest (SETTLE_MS): jumping to the end does not count the middle
 * as read, though the browser animates the jump through it. `resetKey` starts over (another
 * proposal, another rendering of it).
 */
export function useSeenCoverage(ref: RefObject<HTMLElement | null>, active: boolean, resetKey: string): number | null {
  const spans = useRef<[number, number][]>([]);
  const [unseen, setUnseen] = useState<number | null>(null);

  const measure = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const box = el.getBoundingClientRect();
    const top = box.top + el.clientTop;
    let clipTop = Math.max(top, 0);
    let clipBottom = Math.min(top + el.clientHeight, window.innerHeight);
    const dialog = el.closest('dialog');
    if (dialog) {
      const d = dialog.getBoundingClientRect();
      clipTop = Math.max(clipTop, d.top + dialog.clientTop);
      clipBottom = Math.min(clipBottom, d.top + dialog.clientTop + dialog.clientHeight);
    }
    const total = el.scrollHeight;
    if (clipBottom > clipTop) {
      const from = el.scrollTop + (clipTop - top);
      spans.current = merge(spans.current, [from, from + (clipBottom - clipTop)]);
    }
    const seen = spans.current.reduce((sum, [a, b]) => sum + (Math.min(b, total) - Math.max(a, 0)), 0);
    setUnseen(total - seen <= SLACK_PX ? 0 : Math.min(1, (total - seen) / total));
  }, [ref]);

  useEffect(() => {
    spans.current = [];
    setUnseen(null);
    if (!active) return;
    const el = ref.current;
    const dialog = el?.closest('dialog');
    const frame = requestAnimationFrame(measure);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Each movement restarts the wait: only where the box comes to rest is measured.
    const moved = () => {
      clearTimeout(timer);
      el?.setAttribute(SETTLING_ATTRIBUTE, '');
      timer = setTimeout(() => {
        el?.removeAttribute(SETTLING_ATTRIBUTE);
        measure();
      }, SETTLE_MS);
    };
    el?.addEventListener('scroll', moved, { passive: true });
    dialog?.addEventListener('scroll', moved, { passive: true });
    window.addEventListener('resize', moved);
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
      el?.removeAttribute(SETTLING_ATTRIBUTE);
      el?.removeEventListener('scroll', moved);
      dialog?.removeEventListener('scroll', moved);
      window.removeEventListener('resize', moved);
    };
  }, [active, resetKey, measure, ref]);

  return unseen;
}
