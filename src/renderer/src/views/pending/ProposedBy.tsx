import { RevealText } from '../../components/RevealText';

/**
 * Which agent asked, as the core verified it: the agent token's name, or plainly that no token
 * came, so an unnamed sender is never read as a known one.
 */
export function ProposedBy({ agent }: { agent: string | null }) {
  return agent !== null ? (
    <>
      <code>
        <RevealText text={agent} />
      </code>{' '}
      <span className="muted">(verified by its agent token)</span>
    </>
  ) : (
    <span className="muted">none: sent without an agent token, so the sender is not identified</span>
  );
}
