import { z } from 'zod';
import { BODY_FIELDS } from '../../../../shared/receipt-bodies.ts';

/**
 * The export bundle a reviewer checks offline (docs/receipts.md, "Export bundles"). One shape,
 * written by `buildBundle` and read by `verifyBundle`; snake_case like the receipt bodies.
 */
export const BUNDLE_FORMAT = 'openexec-receipt-bundle';
export const BUNDLE_VERSION = 1;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/** A body a format-2 receipt commits to: kept (its salt and text), or what stands in its place. */
export const bundleBodySchema = z.union([
  z.strictObject({ salt: z.string().regex(/^[0-9a-f]+$/), text: z.string() }),
  z.strictObject({ purged: z.string(), purged_at: z.string(), purge_seq: z.int().min(1) }),
]);

export const bundleReceiptSchema = z.object({
  seq: z.int().min(1),
  hash: z.string(),
  prev_hash: z.string(),
  body: z.string(),
  signature: z.string(),
  /** Canonical JSON text of the handler's result (format-1 `executed` receipts whose result is kept). */
  result: z.string().optional(),
  /** Format 2: the bodies its `salted_hashes` commit to, by field (docs/receipts.md). */
  bodies: z.partialRecord(z.enum(BODY_FIELDS), bundleBodySchema).optional(),
  /** RFC 9162 audit path from this receipt's leaf to the checkpoint's root, hex. */
  inclusion_proof: z.array(hex64).optional(),
});

export const approverKeySchema = z.object({
  approver: z.enum(['clawshield', 'operator']),
  key_id: z.string(),
  public_key_pem: z.string(),
});

export const bundleSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  public_key_pem: z.string(),
  key_id: z.string(),
  query: z.record(z.string(), z.unknown()),
  complete: z.boolean(),
  count: z.int().min(0),
  checkpoint: z.object({ size: z.int().min(0), root_hash: hex64, note: z.string() }),
  approver_keys: z.array(approverKeySchema),
  receipts: z.array(bundleReceiptSchema),
});

export type ReceiptBundle = z.infer<typeof bundleSchema>;
export type BundleReceipt = z.infer<typeof bundleReceiptSchema>;
export type ApproverKey = z.infer<typeof approverKeySchema>;
export type BundleBody = z.infer<typeof bundleBodySchema>;

/** The bundle's bytes: the one serialisation every exporter uses. */
export function bundleText(bundle: ReceiptBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}
