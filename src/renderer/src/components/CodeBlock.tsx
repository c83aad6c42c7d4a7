/** Monospace, selectable, wrapped text. Content is always rendered as text, never as HTML. */
export function CodeBlock({ text, label, testId }: { text: string; label: string; testId?: string }) {
  return (
    <pre className="code" aria-label={label} data-testid={testId} tabIndex={0}>
      {text}
    </pre>
  );
}
