import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { AGENT_NAME_PATTERN } from '../../shared/console-schemas.ts';
import { MAX_GRANT_SECONDS, MAX_GRANT_USES } from '../../shared/grant-schemas.ts';

/**
 * A demo scenario (docs/demo/scenarios.md): a title and a list of steps, each a mapping with
 * exactly one key naming its kind. Every object is strict, so a misspelt field is an error
 * naming it rather than a step that silently does something else.
 */

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const name = z.string().regex(NAME, 'must be a name of letters, digits, - and _ (starting with a letter)');
const payload = z.record(z.string(), z.unknown());
const common = {
  title: z.string().min(1).max(200),
  /** Narration: why this step is here, in the presenter's words. */
  say: z.string().max(2000).optional(),
};

const propose = z.strictObject({
  ...common,
  as: name,
  action: z.string().min(1).max(200),
  payload: payload.default({}),
  context: z.string().max(4000).optional(),
  ttl_seconds: z
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional(),
  nonce: z.string().min(1).max(200).optional(),
  expect: z.enum(['proposed', 'refused']).default('proposed'),
});

const execute = z.strictObject({
  ...common,
  as: name.optional(),
  action: z.string().min(1).max(200),
  payload: payload.default({}),
  /** `approver`: an artifact the demo's stand-in ClawShield approver signs for this request. */
  approval: z.enum(['none', 'approver']).default('none'),
  /** The grant step (by `as`) this request must run under: its receipt must carry that grant. */
  grant: name.optional(),
  nonce: z.string().min(1).max(200).optional(),
  expect: z.enum(['executed', 'refused']).default('executed'),
});

const replay = z.strictObject({
  ...common,
  /** The execute step whose nonce (and approval) is sent again. */
  of: name,
  /** Another payload under the same nonce: the boundary answers 409. */
  payload: payload.optional(),
});

const tamper = z.strictObject({
  ...common,
  action: z.string().min(1).max(200),
  /** What the approver signed. */
  approved_payload: payload,
  /** What the agent sends with that approval. */
  sent_payload: payload,
});

const wait = z.strictObject({
  ...common,
  for: name,
  until: z.enum(['executed', 'denied', 'expired', 'failed']).optional(),
  timeout_seconds: z.int().min(1).max(600).default(30),
});

const decide = z.strictObject({
  ...common,
  proposal: name,
  /** What the operator does under --auto (and suggests interactively). */
  decision: z.enum(['approve', 'deny']),
  reason: z.string().trim().min(1).max(2000).optional(),
});

/** The operator approves a proposal once and signs a grant for requests like it ("Approve similar…"). */
const grant = z
  .strictObject({
    ...common,
    as: name,
    proposal: name,
    /** Payload fields that may differ from the proposal's (they keep their JSON type). */
    vary: z.array(z.string().min(1).max(200)).max(64).default([]),
    uses: z.int().min(1).max(MAX_GRANT_USES).optional(),
    for_seconds: z.int().min(1).max(MAX_GRANT_SECONDS).optional(),
    reason: z.string().trim().min(1).max(1000).optional(),
  })
  .refine((g) => g.uses !== undefined || g.for_seconds !== undefined, {
    message: 'a grant needs a limit: uses and/or for_seconds',
    path: ['uses'],
  });

const verify = z.strictObject({
  ...common,
  check: z.enum(['ledger', 'receipt', 'truncation']),
  /** receipt: the step (by `as`) whose newest receipt is opened; default the newest receipt. */
  of: name.optional(),
  /** truncation: how many of the newest receipts the copy loses. */
  remove: z.int().min(1).max(1000).default(2),
});

const STEP_SCHEMAS = { propose, execute, replay, tamper, wait, decide, grant, verify } as const;
export type StepKind = keyof typeof STEP_SCHEMAS;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];

export type Step =
  | ({ kind: 'propose' } & z.infer<typeof propose>)
  | ({ kind: 'execute' } & z.infer<typeof execute>)
  | ({ kind: 'replay' } & z.infer<typeof replay>)
  | ({ kind: 'tamper' } & z.infer<typeof tamper>)
  | ({ kind: 'wait' } & z.infer<typeof wait>)
  | ({ kind: 'decide' } & z.infer<typeof decide>)
  | ({ kind: 'grant' } & z.infer<typeof grant>)
  | ({ kind: 'verify' } & z.infer<typeof verify>);

export interface Scenario {
  file: string;
  title: string;
  /** The name the scripted agent is registered under (`openexec agents add NAME`). */
  agent: string;
  steps: Step[];
}

export const DEFAULT_AGENT = 'demo-agent';

/** A scenario file that cannot be run: one line naming the file, the step and the field. */
export class ScenarioError extends Error {}

const header = z.strictObject({
  title: z.string().min(1).max(200),
  description: z.string().max(4000).optional(),
  agent: z.string().regex(AGENT_NAME_PATTERN, "must be 1-64 letters, digits, '.', '_' or '-'").default(DEFAULT_AGENT),
  steps: z.array(z.unknown()).min(1).max(500),
});

function fieldOf(path: PropertyKey[]): string {
  return path.length === 0 ? '(the step itself)' : path.map(String).join('.');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseScenario(file: string, text: string): Scenario {
  const fail = (where: string, problem: string): never => {
    throw new ScenarioError(`${file}: ${where}: ${problem}`);
  };
  const doc = parseDocument(text, { uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) fail(`line ${yamlError.linePos?.[0]?.line ?? '?'}`, yamlError.message.split('\n')[0] ?? 'not YAML');
  const top = header.safeParse(doc.toJS());
  if (!top.success) {
    const issue = top.error.issues[0]!;
    fail(issue.path.length === 0 ? 'the file' : fieldOf(issue.path), issue.message);
  }
  const { title, agent, steps: rawSteps } = top.data!;
  const steps: Step[] = [];
  const proposals = new Set<string>();
  const executions = new Set<string>();
  const grants = new Set<string>();
  const named = new Set<string>();
  rawSteps.forEach((raw, i) => {
    const where = `step ${i + 1}`;
    const keys = isPlainObject(raw) ? Object.keys(raw) : [];
    if (!isPlainObject(raw) || keys.length !== 1) {
      fail(where, `must be a mapping with exactly one key, one of ${STEP_KINDS.join(', ')}`);
    }
    const kind = keys[0]!;
    if (!(STEP_KINDS as string[]).includes(kind)) fail(where, `unknown step kind '${kind}' (one of ${STEP_KINDS.join(', ')})`);
    const parsed = STEP_SCHEMAS[kind as StepKind].safeParse((raw as Record<string, unknown>)[kind]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      fail(`${where} (${kind})`, `${fieldOf(issue.path)}: ${issue.message}`);
    }
    const step = { kind, ...parsed.data } as Step;
    const label = `${where} (${kind} "${step.title}")`;
    const refer = (field: string, ref: string, pool: Set<string>, what: string) => {
      if (!pool.has(ref)) fail(label, `${field}: no earlier ${what} step is named '${ref}'`);
    };
    if ('as' in step && step.as !== undefined) {
      if (named.has(step.as)) fail(label, `as: the name '${step.as}' is already used by an earlier step`);
      named.add(step.as);
      (step.kind === 'propose' ? proposals : step.kind === 'grant' ? grants : executions).add(step.as);
    }
    if (step.kind === 'replay') refer('of', step.of, executions, 'execute');
    if (step.kind === 'wait') refer('for', step.for, proposals, 'propose');
    if (step.kind === 'decide') refer('proposal', step.proposal, proposals, 'propose');
    if (step.kind === 'grant') refer('proposal', step.proposal, proposals, 'propose');
    if (step.kind === 'execute' && step.grant !== undefined) refer('grant', step.grant, grants, 'grant');
    if (step.kind === 'verify' && step.of !== undefined) refer('of', step.of, named, 'propose, execute or grant');
    steps.push(step);
  });
  return { file, title, agent, steps };
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseScenario(file, text);
}
