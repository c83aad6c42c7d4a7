/**
 * The desktop notification for a new proposal, minus Electron: the renderer asks (it knows
 * whether the operator is looking), the main process decides and writes the text from the
 * proposal as the core has it, so a page can neither invent a notification's words nor
 * repeat one. src/main/electron/console-ipc.ts shows it with Electron's Notification.
 */
import type { ConsoleApi } from '../../shared/console-api';
import { NOTIFY_INPUT } from '../../shared/console-api';
import type { NotifyResultDto, ProposalDto } from '../../shared/console-dto';
import { fail, ok, type ConsoleResult } from '../../shared/console-result';
import { keyFields } from '../../shared/proposal-summary';
import { revealPlain } from '../../shared/suspicious-text';
import { senderProblem, type InvokeEventLike, type TrustedWindow } from './console-ipc-dispatch';

export interface ProposalNotification {
  proposalId: string;
  title: string;
  body: string;
}

export interface NotifierDeps {
  api: Pick<ConsoleApi, 'getProposal'>;
  currentWindow: () => TrustedWindow | null;
  /** True while the operator is looking at the console window: nothing is shown then. */
  windowFocused: () => boolean;
  show: (notification: ProposalNotification) => void;
}

/** Remembered ids are capped so a long session cannot grow the set without bound. */
const MAX_REMEMBERED = 1000;

/** The words of a proposal's notification: its action and key payload fields, marks made visible. */
export function notificationFor(p: ProposalDto): ProposalNotification {
  const fields = keyFields(p.payloadCanonical).map((f) => `${f.key}: ${f.value}`);
  return {
    proposalId: p.id,
    title: revealPlain(`Proposal waiting: ${p.action}`),
    body: revealPlain(fields.length ? fields.join(' · ') : '(empty payload)'),
  };
}

export function createNotifyHandler(deps: NotifierDeps): (event: InvokeEventLike, arg: unknown) => Promise<ConsoleResult<NotifyResultDto>> {
  const notified = new Set<string>();
  return async (event, arg) => {
    const problem = senderProblem(event, deps.currentWindow());
    if (problem) return fail('forbidden', `Refused: ${problem}.`);
    const parsed = NOTIFY_INPUT.safeParse(arg ?? {});
    if (!parsed.success) return fail('invalid_input', parsed.error.issues.map((i) => i.message).join('; '));
    const found = await deps.api.getProposal(parsed.data);
    if (!found.ok) return found;
    const proposal = found.value;
    if (proposal.status !== 'pending' || notified.has(proposal.id) || deps.windowFocused()) return ok({ shown: false });
    if (notified.size >= MAX_REMEMBERED) notified.clear();
    notified.add(proposal.id);
    deps.show(notificationFor(proposal));
    return ok({ shown: true });
  };
}
