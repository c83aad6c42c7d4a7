import { scriptOf, segmentText } from '../../../shared/suspicious-text';

/**
 * Text with every bidirectional control and invisible character replaced by a visible mark
 * (the character itself never reaches the page, so it cannot reorder or hide anything), and
 * words that mix look-alike scripts marked, their odd letters picked out.
 */
export function RevealText({ text }: { text: string }) {
  return (
    <>
      {segmentText(text).map((segment, i) => {
        switch (segment.kind) {
          case 'text':
            return segment.text;
          case 'bidi':
          case 'invisible':
            return (
              <span key={i} className={`char-mark char-${segment.kind}`} title={segment.label} data-testid="char-mark">
                {segment.text}
              </span>
            );
          case 'mixed': {
            const letters = [...segment.text];
            const first = letters.map(scriptOf).find((s) => s !== null) ?? null;
            return (
              <mark key={i} className="mixed-script" title={`This word ${segment.label}`} data-testid="mixed-script">
                {letters.map((ch, j) => {
                  const script = scriptOf(ch);
                  return script && script !== first ? (
                    <span
                      key={j}
                      className="odd-script"
                      title={`${script} ${ch} (U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`}
                    >
                      {ch}
                    </span>
                  ) : (
                    ch
                  );
                })}
              </mark>
            );
          }
        }
      })}
    </>
  );
}
