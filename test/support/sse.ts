/** The complete Server-Sent Events frames at the start of `buffer` (event and JSON data), and what is left of it. */
export function takeSseFrames<T = unknown>(buffer: string): { frames: { event: string; data: T }[]; rest: string } {
  const frames: { event: string; data: T }[] = [];
  let rest = buffer;
  let cut;
  while ((cut = rest.indexOf('\n\n')) >= 0) {
    const frame = rest.slice(0, cut);
    rest = rest.slice(cut + 2);
    const event = /^event: (.+)$/m.exec(frame)?.[1];
    const data = /^data: (.+)$/m.exec(frame)?.[1];
    if (event && data) frames.push({ event, data: JSON.parse(data) as T });
  }
  return { frames, rest };
}
