import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ReceiptTotal } from '../../../../shared/console-dto';
import { callConsole, errorText } from '../../bridge';
import { useLedgerStore } from '../../stores/ledger-store';

interface Group {
  agent: string;
  revoked: boolean;
  total: ReceiptTotal;
}

type Loaded = { groups: Group[]; withoutAgent: number | null } | { error: string } | null;

function countText(total: ReceiptTotal): string {
  return `${total.exact ? '' : 'at least '}${total.count.toLocaleString()}`;
}

/**
 * The current search grouped by verified agent: how many of its receipts each registered agent
 * (revoked ones too) has, counted by the server for the search plus that agent. Choosing a group
 * filters the ledger to it. The list pages newest-first, so grouping is a count per agent rather
 * than a reordering of rows.
 */
export function AgentGroups({ onClose }: { onClose: () => void }) {
  const { query, total, counting, setFilters, search } = useLedgerStore(
    useShallow((s) => ({ query: s.query, total: s.total, counting: s.counting, setFilters: s.setFilters, search: s.search })),
  );
  const [loaded, setLoaded] = useState<Loaded>(null);

  useEffect(() => {
    let live = true;
    setLoaded(null);
    // After the search's own count: the groups need it, and one count at a time keeps it quick.
    if (counting) return;
    void (async () => {
      const agents = await callConsole('listAgents');
      if (!agents.ok) return live && setLoaded({ error: errorText(agents.error) });
      const { agent: _ignored, ...base } = query;
      const groups: Group[] = [];
      for (const a of agents.value) {
        const counted = await callConsole('countReceipts', { ...base, agent: a.name });
        if (!counted.ok) return live && setLoaded({ error: errorText(counted.error) });
        const { count, exact } = counted.value;
        if (count > 0) groups.push({ agent: a.name, revoked: a.revokedAt !== null, total: { count, exact } });
      }
      groups.sort((x, y) => y.total.count - x.total.count || x.agent.localeCompare(y.agent));
      // Only when every count is exact is the remainder a count of receipts with no agent.
      const exact = query.agent === undefined && total?.exact === true && groups.every((g) => g.total.exact);
      const withoutAgent = exact ? total.count - groups.reduce((sum, g) => sum + g.total.count, 0) : null;
      if (live) setLoaded({ groups, withoutAgent });
    })();
    return () => {
      live = false;
    };
  }, [query, total, counting]);

  const choose = (agent: string) => {
    setFilters({ agent });
    void search();
  };

  return (
    <section className="agent-groups" aria-labelledby="agent-groups-title" data-testid="agent-groups">
      <div className="agent-groups-head">
        <h3 id="agent-groups-title" className="field-label">
          This search by agent
        </h3>
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
          Hide
        </button>
      </div>
      {loaded === null ? <p className="muted small">Counting…</p> : null}
      {loaded !== null && 'error' in loaded ? (
        <p className="field-error" role="alert">
          {loaded.error}
        </p>
      ) : null}
      {loaded !== null && 'groups' in loaded ? (
        <ul className="agent-group-list">
          {loaded.groups.length === 0 ? <li className="muted small">No receipt of this search names an agent.</li> : null}
          {loaded.groups.map((g) => (
            <li key={g.agent}>
              <button
                type="button"
                className="btn btn-small"
                aria-pressed={query.agent === g.agent}
                onClick={() => choose(g.agent)}
                data-testid="agent-group"
                data-agent={g.agent}
              >
                {g.agent}
                {g.revoked ? ' (revoked)' : ''}: {countText(g.total)} {g.total.count === 1 && g.total.exact ? 'receipt' : 'receipts'}
              </button>
            </li>
          ))}
          {loaded.withoutAgent !== null && loaded.withoutAgent > 0 ? (
            <li className="muted small" data-testid="agent-group-none">
              No agent token: {loaded.withoutAgent.toLocaleString()}
            </li>
          ) : null}
        </ul>
      ) : null}
    </section>
  );
}
