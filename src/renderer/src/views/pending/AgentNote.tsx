import { RevealText } from '../../components/RevealText';

/**
 * The agent's free text, after what will run and framed so it cannot pass for the console:
 * a hatched border and its own label no payload rendering uses, a bounded height of its own
 * (it scrolls), marks for hidden characters.
 */
export function AgentNote({ context }: { context: string | null }) {
  return (
    <section className="agent-note" aria-labelledby="agent-note-label" data-testid="agent-note">
      <p className="agent-note-label" id="agent-note-label">
        Agent’s note — unverified
        <span className="agent-note-hint"> written by the agent; it does not change what runs</span>
      </p>
      {context ? (
        <div className="agent-note-text" tabIndex={0} data-testid="proposal-context">
          <RevealText text={context} />
        </div>
      ) : (
        <p className="muted agent-note-empty">The agent gave no note.</p>
      )}
    </section>
  );
}
