/** A grant as the console and the CLI show it (docs/receipts.md "Grants" for the signed form). */
export interface GrantDto {
  id: string;
  action: string;
  /** The agent the grant is limited to, or null for any. */
  agent: string | null;
  /** Canonical JSON of the fields that must be exactly these values. */
  fixed: string;
  /** Pretty JSON Schema the varying fields must satisfy. */
  schema: string;
  /** The fields that may vary (the schema's properties). */
  varying: string[];
  uses: number | null;
  usesSpent: number;
  until: string | null;
  untilRestart: boolean;
  reason: string;
  issuedAt: string;
  keyId: string;
  proposalId: string | null;
  /** `live`, or how it ended. */
  status: 'live' | 'revoked' | 'expired' | 'exhausted' | 'restart';
  endedAt: string | null;
  /** The signed canonical terms and the operator's signature over them. */
  body: string;
  signature: string;
}

/** The terms "Approve similar…" would sign, shown before signing (no id or times yet). */
export type GrantPreviewDto = Pick<GrantDto, 'action' | 'agent' | 'fixed' | 'schema' | 'varying' | 'uses' | 'untilRestart' | 'reason'> & {
  forSeconds: number | null;
};

/** What "Approve similar…" did: the proposal approved once, and the grant for the next ones. */
export interface SimilarApprovalDto<P> {
  proposal: P;
  grant: GrantDto;
}
