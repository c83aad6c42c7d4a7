import { useEffect, useRef } from 'react';
import { RECEIPT_EVENTS, type ReceiptEvent } from '../../../../shared/console-dto';
import { useLedgerStore } from '../../stores/ledger-store';

const TEXT_DEBOUNCE_MS = 250;

export function LedgerFilters() {
  const filters = useLedgerStore((s) => s.filters);
  const filterError = useLedgerStore((s) => s.filterError);
  const setFilters = useLedgerStore((s) => s.setFilters);
  const search = useLedgerStore((s) => s.search);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  const searchSoon = (delay: number) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => void search(), delay);
  };

  const toggleEvent = (event: ReceiptEvent) => {
    const events = filters.events.includes(event)
      ? filters.events.filter((e) => e !== event)
      : [...filters.events, event];
    setFilters({ events });
    searchSoon(0);
  };

  const hasFilters =
    filters.text || filters.events.length || filters.action || filters.approverKeyId || filters.from || filters.to;

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
        <label className="sr-only" htmlFor="ledger-text">
          Full-text search
        </label>
        <input
          id="ledger-text"
          type="search"
          className="search-input"
          placeholder="Search action, reason, context, payload…"
          value={filters.text}
          maxLength={500}
          onChange={(e) => {
            setFilters({ text: e.target.value });
            searchSoon(TEXT_DEBOUNCE_MS);
          }}
          data-testid="ledger-search"
        />
        <label className="filter-field">
          <span>Action</span>
          <input
            value={filters.action}
            onChange={(e) => {
              setFilters({ action: e.target.value });
              searchSoon(TEXT_DEBOUNCE_MS);
            }}
            placeholder="any"
            data-testid="ledger-filter-action"
          />
        </label>
        <label className="filter-field">
          <span>Approver key id</span>
          <input
            value={filters.approverKeyId}
            onChange={(e) => {
              setFilters({ approverKeyId: e.target.value });
              searchSoon(TEXT_DEBOUNCE_MS);
            }}
            placeholder="any"
            className="mono"
            data-testid="ledger-filter-approver"
          />
        </label>
        <label className="filter-field">
          <span>From</span>
          <input
            type="datetime-local"
            step={1}
            value={filters.from}
            onChange={(e) => {
              setFilters({ from: e.target.value });
              searchSoon(0);
            }}
          />
        </label>
        <label className="filter-field">
          <span>To</span>
          <input
            type="datetime-local"
            step={1}
            value={filters.to}
            onChange={(e) => {
              setFilters({ to: e.target.value });
              searchSoon(0);
            }}
          />
        </label>
      </div>
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
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => {
              setFilters({ text: '', events: [], action: '', approverKeyId: '', from: '', to: '' });
              searchSoon(0);
            }}
          >
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
