import type { DemoAgent } from './agent.ts';
import type { DemoApprover } from './approver.ts';
import type { Narrator } from './narrator.ts';
import type { Decision, DemoOperator } from './operator.ts';

/** A step whose outcome is not what the scenario expects: the demo stops and says why. */
export class StepFailed extends Error {}

export interface SentExecution {
  action: string;
  payload: Record<string, unknown>;
  nonce: string;
  artifact: Record<string, string> | undefined;
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
  /** The operator's actual decisions, which can differ from the script when interactive. */
  decisions: Map<string, { scripted: Decision; actual: Decision }>;
  /** Receipt numbers each named step (and the steps referring to it) left. */
  receiptsOf: Map<string, number[]>;
}
