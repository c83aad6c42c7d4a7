import { useEffect, useRef, type InputHTMLAttributes } from 'react';
import { RECEIPT_EVENTS, type ReceiptEvent } from '../../../../shared/console-dto';
import { useShallow } from 'zustand/react/shallow';
import { EMPTY_FILTERS, searchShape, type LedgerFilters as Filters } from '../../lib/ledger-query';
import { useLedgerStore } from '../../stores/ledger-store';

const TEXT_DEBOUNCE_MS = 250;

type FilterFieldProps = { label: string; onValue: (value: string) => void } & Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange'>;

function FilterField({ label, onValue, ...input }: FilterFieldProps) {
  return (
    <label className="filter-field">
      <span>{label}</span>
      <input {...input} onChange={(e) => onValue(e.target.value)} />
    </label>
  );
}

export function LedgerFilters() {
  const { filters, filterError, setFilters, search } = useLedgerStore(
    useShallow((s) => ({ filters: s.filters, filterError: s.filterError, setFilters: s.setFilters, search: s.search })),
  );
  const shape = searchShape(filters.text);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const searchSoon = (delay: number) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => void search(), delay);
  };

  // Typed filters search after a pause in typing, so each keystroke does not cost a query.
  const edit = (patch: Partial<Filters>, delay: number) => {
    setFilters(patch);
    searchSoon(delay);
  };

  const toggleEvent = (event: ReceiptEvent) => {
    const events = filters.events.includes(event) ? filters.events.filter((e) => e !== event) : [...filters.events, event];
    edit({ events }, 0);
  };

  const hasFilters =
    filters.text || filters.events.length || filters.action || filters.agent || filters.approverKeyId || filters.from || filters.to;

  return (
    <form
      className="filters"
      role="search"
      aria-label="Search the ledger"
      onSubmit={(e) => {
        e.preventDefault();
        searchSoon(0);
      }}
    >
      <div className="filters-row">
        <label className="filter-field search-field" htmlFor="ledger-text">
          Search
          <input
            id="ledger-text"
            type="search"
            className="search-input"
            placeholder="Words, an id or a hash…"
            aria-describedby="ledger-search-hint"
            value={filters.text}
            maxLength={500}
            onChange={(e) => edit({ text: e.target.value }, TEXT_DEBOUNCE_MS)}
            data-testid="ledger-search"
          />
        </label>
        <FilterField
          label="Action"
          value={filters.action}
          onValue={(action) => edit({ action }, TEXT_DEBOUNCE_MS)}
          placeholder="any"
          data-testid="ledger-filter-action"
        />
        <FilterField
          label="Agent"
          value={filters.agent}
          onValue={(agent) => edit({ agent }, TEXT_DEBOUNCE_MS)}
          placeholder="any"
          data-testid="ledger-filter-agent"
        />
        <FilterField
          label="Approver key id"
          value={filters.approverKeyId}
          onValue={(approverKeyId) => edit({ approverKeyId }, TEXT_DEBOUNCE_MS)}
          placeholder="any"
          className="mono"
          data-testid="ledger-filter-approver"
        />
        <FilterField label="From" type="datetime-local" step={1} value={filters.from} onValue={(from) => edit({ from }, 0)} />
        <FilterField label="To" type="datetime-local" step={1} value={filters.to} onValue={(to) => edit({ to }, 0)} />
      </div>
      <p id="ledger-search-hint" className="muted small search-hint" data-testid="ledger-search-shape">
        {shape && 'id' in shape
          ? 'Looking up the receipts of this proposal, execution or approval id.'
          : shape && 'hash' in shape
            ? 'Looking up receipts by this request hash or receipt hash.'
            : 'Words search action, reason, context and payload. A proposal, execution or approval id (or id:…) or a sha256 hash looks that up.'}
      </p>
      <fieldset className="filters-row chips">
        <legend className="sr-only">Events</legend>
        {RECEIPT_EVENTS.map((event) => (
          <label key={event} className={filters.events.includes(event) ? 'chip chip-on' : 'chip'}>
            <input
              type="checkbox"
              checked={filters.events.includes(event)}
              onChange={() => toggleEvent(event)}
              data-testid={`ledger-event-${event}`}
            />
            {event}
          </label>
        ))}
        {hasFilters ? (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => edit(EMPTY_FILTERS, 0)}>
            Clear filters
          </button>
        ) : null}
      </fieldset>
      {filterError ? (
        <p className="field-error" role="alert">
          {filterError}
        </p>
      ) : null}
    </form>
  );
}
