/**
 * `openexec-console/client`: the agent author's side of OpenExec. See README, "A client for
 * agent authors", and examples/openai-tool-loop.ts.
 */
export { OpenExecClient, OpenExecError } from './openexec-client.ts';
export type { ApprovalArtifact, ClientOptions, Execution, ExecuteInput, Proposal, ProposeInput } from './openexec-client.ts';
export { actionHash, clawshieldArtifact } from './clawshield-artifact.ts';
export type { ArtifactInput } from './clawshield-artifact.ts';
