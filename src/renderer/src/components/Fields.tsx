import type { ReactNode } from 'react';

export interface FieldRow {
  label: string;
  value: ReactNode;
  mono?: boolean;
  testId?: string;
}

/** A definition list of label/value pairs; missing values show as an em dash. */
export function Fields({ rows }: { rows: FieldRow[] }) {
  return (
    <dl className="fields">
      {rows.map((row) => (
        <div className="field" key={row.label}>
          <dt>{row.label}</dt>
          <dd className={row.mono ? 'mono' : undefined} data-testid={row.testId}>
            {row.value === null || row.value === undefined || row.value === '' ? '—' : row.value}
          </dd>
        </div>
      ))}
    </dl>
  );
}
