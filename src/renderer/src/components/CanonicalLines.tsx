import type { ReactNode } from 'react';
import { childPath, parseCanonical, readableJsonString, type CanonNode } from '../../../shared/canonical-tree';
import { RevealText } from './RevealText';

export type ChangeMark = 'changed' | 'added';

interface Line {
  depth: number;
  /** Path of the value that starts on this line (for the change marks). */
  path: string | null;
  content: ReactNode;
}

function token(raw: string, kind: 'key' | 'string' | 'literal'): ReactNode {
  if (kind === 'literal') return <span className="j-lit">{raw}</span>;
  return (
    <span className={kind === 'key' ? 'j-key' : 'j-str'}>
      <RevealText text={readableJsonString(raw)} />
    </span>
  );
}

function layout(node: CanonNode, path: string, depth: number, prefix: ReactNode, comma: boolean, lines: Line[]): void {
  const tail = comma ? ',' : '';
  const open = node.kind === 'object' ? '{' : '[';
  const close = node.kind === 'object' ? '}' : ']';
  if (node.kind === 'object' || node.kind === 'array') {
    const children = node.kind === 'object' ? node.entries : node.items;
    if (children.length === 0) {
      lines.push({
        depth,
        path,
        content: (
          <>
            {prefix}
            {open + close + tail}
          </>
        ),
      });
      return;
    }
    lines.push({
      depth,
      path: null,
      content: (
        <>
          {prefix}
          {open}
        </>
      ),
    });
    if (node.kind === 'object') {
      node.entries.forEach((e, i) => {
        const key = <>{token(e.keyRaw, 'key')}: </>;
        layout(e.value, childPath(path, e.key), depth + 1, key, i < node.entries.length - 1, lines);
      });
    } else {
      node.items.forEach((item, i) => layout(item, childPath(path, i), depth + 1, null, i < node.items.length - 1, lines));
    }
    lines.push({ depth, path: null, content: close + tail });
    return;
  }
  lines.push({
    depth,
    path,
    content: (
      <>
        {prefix}
        {token(node.raw, node.kind === 'string' ? 'string' : 'literal')}
        {tail}
      </>
    ),
  });
}

/**
 * Canonical JSON laid out one value per line (each line a block, so copying and innerText
 * keep the line breaks), strings readable (non-ASCII as characters, marks
 * for invisible and bidi characters), lines whose value changed marked. Only the layout and the
 * spelling of escapes differ from the canonical text; `pathPrefix` names the root (e.g. the
 * `payload` of a request) when `marks` are keyed relative to it.
 */
export function CanonicalLines({
  text,
  marks,
  pathPrefix,
}: {
  text: string;
  marks?: ReadonlyMap<string, ChangeMark>;
  pathPrefix?: string;
}) {
  const root = parseCanonical(text);
  if (!root) return <>{text}</>;
  const lines: Line[] = [];
  layout(root, '', 0, null, false, lines);
  const prefix = pathPrefix ? `${pathPrefix}.` : '';
  return (
    <>
      {lines.map((line, i) => {
        const relative = line.path !== null && line.path.startsWith(prefix) ? line.path.slice(prefix.length) : null;
        const mark = relative !== null ? marks?.get(relative) : undefined;
        return (
          <span key={i} className={mark ? `j-line j-${mark}` : 'j-line'} data-change={mark}>
            {'  '.repeat(line.depth)}
            {line.content}
            {mark ? <span className="sr-only">{mark === 'added' ? ' (new field)' : ' (changed)'}</span> : null}
          </span>
        );
      })}
    </>
  );
}
