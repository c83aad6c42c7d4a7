import type { RefObject } from 'react';

/** One key each: denying should cost no more than approving. */
export const DENY_PRESETS = ['Not what I asked for', 'Payload looks wrong', 'Too risky', 'Needs more context', 'Duplicate'] as const;

/** The preset a number key stands for, or null. */
export function presetForKey(key: string): string | null {
  const index = Number(key) - 1;
  return /^[1-9]$/.test(key) ? (DENY_PRESETS[index] ?? null) : null;
}

interface Props {
  reason: string;
  reasonMissing: boolean;
  inputRef: RefObject<HTMLInputElement | null>;
  onReason: (text: string) => void;
}

/** Preset reasons on 1–5 and free text; the reason goes to the ledger and back to the agent. */
export function DenyReasons({ reason, reasonMissing, inputRef, onReason }: Props) {
  return (
    <fieldset className="deny-reasons">
      <legend>Reason (required; written to the ledger and given to the agent)</legend>
      <div className="deny-presets">
        {DENY_PRESETS.map((preset, i) => (
          <button
            key={preset}
            type="button"
            className={reason === preset ? 'btn btn-small chip-on' : 'btn btn-small'}
            aria-pressed={reason === preset}
            aria-keyshortcuts={String(i + 1)}
            onClick={() => onReason(preset)}
            data-testid="deny-preset"
          >
            <kbd>{i + 1}</kbd> {preset}
          </button>
        ))}
      </div>
      <label htmlFor="deny-reason" className="sr-only">
        Reason in your own words
      </label>
      <input
        id="deny-reason"
        ref={inputRef}
        value={reason}
        maxLength={2000}
        placeholder="Or say why in your own words"
        onChange={(e) => onReason(e.target.value)}
        aria-invalid={reasonMissing}
        aria-describedby={reasonMissing ? 'deny-reason-error' : undefined}
        data-testid="deny-reason"
      />
      {reasonMissing ? (
        <p id="deny-reason-error" className="field-error">
          Pick a reason (1–5) or say why, so the ledger and the agent know.
        </p>
      ) : null}
    </fieldset>
  );
}
