import type { DemoAgent } from './agent.ts';
import type { DemoApprover } from './approver.ts';
import type { Narrator } from './narrator.ts';
import type { Decision, DemoOperator } from './operator.ts';
import type { ApprovalArtifact } from '../../client/index.ts';
import type { GrantDto } from '../../shared/grant-dto.ts';

/** A step whose outcome is not what the scenario expects: the demo stops and says why. */
export class StepFailed extends Error {}

export interface SentExecution {
  action: string;
  payload: Record<string, unknown>;
  nonce: string;
  artifact: ApprovalArtifact | undefined;
  execId: string | null;
}

/** What the steps of one run share. */
export interface DemoContext {
  agent: DemoAgent;
  approver: DemoApprover;
  operator: DemoOperator;
  narrator: Narrator;
  dataDir: string;
  /** Where the hand checks put their files (inside the data directory). */
  evidenceDir: string;
  /** Makes nonces unique to this run. */
  runId: string;
  proposals: Map<string, { id: string; action: string }>;
  executions: Map<string, SentExecution>;
  /** Grants the operator issued, by their step's name (absent when the presenter did not grant). */
  grants: Map<string, GrantDto>;
  /** The operator's actual decisions, which can differ from the script when interactive. */
  decisions: Map<string, { scripted: Decision; actual: Decision }>;
  /** Receipt numbers each named step (and the steps referring to it) left. */
  receiptsOf: Map<string, number[]>;
}
