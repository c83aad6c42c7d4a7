import type { ReceiptDto } from '../../../shared/console-dto.ts';

/**
 * What a receipt another instance committed asks of this one for the proposal it names:
 * `always` publish it as stored, publish it only once it is `decided`, or nothing.
 */
export type ProposalNeed = 'always' | 'decided';

/**
 * A receipt about a proposal signed by another receipt key than `ownKeyId` (so committed by
 * another instance on the same ledger), and what it asks for; null for this instance's own
 * receipts (the code that wrote them publishes them) and for those that change no proposal.
 *
 * It mirrors what the instance that wrote the receipt publishes itself (ProposalService): a
 * new proposal, an extension and a denial or expiry are published; an approval only while it
 * leaves a quorum short (the one completing it, or a single operator's, is published when its
 * execution ends); an execution's ending when it closed the proposal (a refusal that left it
 * pending, such as losing to another instance's approval, publishes nothing there either); a
 * client's report or a replayed nonce never.
 */
export function foreignNeed(receipt: ReceiptDto, ownKeyId: string): { id: string; need: ProposalNeed } | null {
  const id = receipt.proposalId;
  if (id === null) return null;
  const body = parseBody(receipt.body);
  if (body === null || body['receipt_key_id'] === ownKeyId) return null;
  switch (receipt.event) {
    case 'proposed':
    case 'extended':
    case 'denied':
    case 'expired':
      return { id, need: 'always' };
    case 'approved':
      return shortOfQuorum(body['details']) ? { id, need: 'always' } : null;
    case 'executed':
    case 'failed':
    case 'refused':
      return { id, need: 'decided' };
    default:
      return null;
  }
}

/** `details` of a quorum approval (proposal-receipts.ts) that leaves the quorum short. */
function shortOfQuorum(details: unknown): boolean {
  if (typeof details !== 'object' || details === null) return false;
  const { quorum, approvals } = details as Record<string, unknown>;
  return typeof quorum === 'number' && typeof approvals === 'number' && approvals < quorum;
}

/** A receipt's signed body; null if it is not a JSON object (it always is, as sealed). */
function parseBody(text: string): Record<string, unknown> | null {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
