import { useMemo, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { prettyCanonical } from '../../../shared/canonical-pretty';
import { diffCanonical } from '../../../shared/canonical-tree';
import type { ToolPinStateDto } from '../../../shared/console-dto';
import { CanonicalLines, type ChangeMark } from '../components/CanonicalLines';
import { Refreshable } from '../components/Refreshable';
import { Empty } from '../components/StateView';
import { Time } from '../components/Time';
import { ViewFrame } from '../components/ViewFrame';
import { shortHash } from '../lib/format';
import { useToolPinsStore } from '../stores/tool-pins-store';

function marksOf(paths: readonly string[], mark: ChangeMark, into = new Map<string, ChangeMark>()): Map<string, ChangeMark> {
  for (const path of paths) into.set(path, mark);
  return into;
}

function Definition({
  id,
  title,
  text,
  marks,
  escaped,
}: {
  id: string;
  title: ReactNode;
  text: string;
  marks: ReadonlyMap<string, ChangeMark>;
  escaped: boolean;
}) {
  return (
    <div className="pin-side">
      <h4 id={id} className="field-label">
        {title}
      </h4>
      <pre className="code" aria-labelledby={id} data-testid={`${id.startsWith('old') ? 'pin-old' : 'pin-new'}`} tabIndex={0}>
        {escaped ? prettyCanonical(text) : <CanonicalLines text={text} marks={marks} />}
      </pre>
    </div>
  );
}

/** One tool whose upstream definition changed: both definitions, what differs, and Accept. */
function ChangedPin({ pin, index }: { pin: ToolPinStateDto & { changedHash: string; changedDefinition: string }; index: number }) {
  const { accepting, accept } = useToolPinsStore(useShallow((s) => ({ accepting: s.accepting, accept: s.accept })));
  const [escaped, setEscaped] = useState(false);
  const { oldMarks, newMarks, summary } = useMemo(() => {
    const forward = diffCanonical(pin.changedDefinition, pin.pinnedDefinition);
    const parts: string[] = [];
    if (forward) {
      const { changed, added, removed } = forward.fields;
      if (changed.length) parts.push(`changed: ${changed.join(', ')}`);
      if (added.length) parts.push(`new: ${added.join(', ')}`);
      if (removed.length) parts.push(`gone: ${removed.join(', ')}`);
    }
    return {
      newMarks: marksOf(forward?.added ?? [], 'added', marksOf(forward?.changed ?? [], 'changed')),
      oldMarks: marksOf([...(forward?.changed ?? []), ...(forward?.removed ?? [])], 'changed'),
      summary: parts.join('; ') || 'only the spelling differs',
    };
  }, [pin]);
  const heading = `pin-${index}-heading`;
  return (
    <article className="pin-changed" aria-labelledby={heading} data-testid="pin-changed" data-action={pin.action}>
      <h3 className="section-title">
        {/* The card is named by the tool, not by the toggle button beside it. */}
        <code id={heading}>{pin.action}</code>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setEscaped((e) => !e)} data-testid="pin-toggle-escaped">
          {escaped ? 'Show as text' : 'Show escapes'}
        </button>
      </h3>
      <p className="small" data-testid="pin-summary">
        The upstream server now offers a different definition ({summary}). Its calls are refused until you accept it; an approval given
        under the old one will not run under the new one.
      </p>
      <div className="pin-sides">
        <Definition
          id={`old-${index}`}
          title={
            <>
              Pinned {shortHash(pin.pinnedHash, 12)}, since <Time iso={pin.pinnedAt} />
            </>
          }
          text={pin.pinnedDefinition}
          marks={oldMarks}
          escaped={escaped}
        />
        <Definition
          id={`new-${index}`}
          title={`Offered now ${shortHash(pin.changedHash, 12)}`}
          text={pin.changedDefinition}
          marks={newMarks}
          escaped={escaped}
        />
      </div>
      <button
        type="button"
        className="btn btn-approve"
        disabled={accepting !== null}
        onClick={() => void accept(pin.action, pin.changedHash)}
        data-testid="accept-definition"
        aria-label={`Accept the new definition of ${pin.action}`}
      >
        {accepting === pin.action ? 'Accepting…' : 'Accept the new definition'}
      </button>
    </article>
  );
}

function PinnedTable({ items }: { items: ToolPinStateDto[] }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="pins-table">
        <caption className="sr-only">Pinned MCP tools whose definition has not changed</caption>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Definition hash</th>
            <th scope="col">Pinned</th>
          </tr>
        </thead>
        <tbody>
          {items.map((p) => (
            <tr key={p.action} data-testid="pin-row">
              <td>
                <code>{p.action}</code>
              </td>
              <td className="mono small" title={p.pinnedHash}>
                {shortHash(p.pinnedHash, 16)}
              </td>
              <td>
                <Time iso={p.pinnedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * MCP tools behind `openexec mcp proxy`: each definition is pinned on first sight, and one the
 * upstream changes later is refused until the operator reads both and accepts the new one (the
 * same witnessed `config` receipt as `openexec mcp accept`).
 */
export function ToolPinsView() {
  const { status, error, items, load, acceptError, accepted } = useToolPinsStore(
    useShallow((s) => ({
      status: s.status,
      error: s.error,
      items: s.items,
      load: s.load,
      acceptError: s.acceptError,
      accepted: s.accepted,
    })),
  );
  return (
    <ViewFrame
      view="tools"
      title="MCP tools"
      lead="Tool definitions of proxied MCP servers, pinned on first sight; a changed one waits for you"
      onOpen={load}
      onRefresh={load}
    >
      {acceptError ? (
        <p className="notice notice-error" role="alert" data-testid="accept-error">
          {acceptError}
        </p>
      ) : null}
      {accepted ? (
        <p className="notice notice-ok" role="status" data-testid="accept-done">
          {accepted}
        </p>
      ) : null}
      <Refreshable
        data={items}
        status={status}
        error={error}
        loadingLabel="Loading MCP tools…"
        errorTitle="Could not load MCP tools"
        onRetry={() => void load()}
      >
        {(items) => {
          const changed = items.filter(
            (p): p is ToolPinStateDto & { changedHash: string; changedDefinition: string } =>
              p.changedHash !== null && p.changedDefinition !== null,
          );
          const steady = items.filter((p) => p.changedHash === null);
          if (items.length === 0) {
            return (
              <Empty title="No MCP tools pinned yet">
                When <code>openexec mcp proxy</code> first lists an upstream server&apos;s tools, each definition is pinned here.
              </Empty>
            );
          }
          return (
            <>
              {changed.length === 0 ? (
                <p className="muted" data-testid="no-changed-pins">
                  No upstream definition has changed.
                </p>
              ) : (
                changed.map((pin, i) => <ChangedPin key={pin.action} pin={pin} index={i} />)
              )}
              {steady.length ? <PinnedTable items={steady} /> : null}
            </>
          );
        }}
      </Refreshable>
    </ViewFrame>
  );
}
