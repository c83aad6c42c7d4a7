import { z } from 'zod';

/**
 * The export bundle a reviewer checks offline (docs/receipts.md, "Export bundles"). One shape,
 * written by `buildBundle` and read by `verifyBundle`; snake_case like the receipt bodies.
 */
export const BUNDLE_FORMAT = 'openexec-receipt-bundle';
export const BUNDLE_VERSION = 1;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const bundleReceiptSchema = z.object({
  seq: z.int().min(1),
  hash: z.string(),
  prev_hash: z.string(),
  body: z.string(),
  signature: z.string(),
  /** Canonical JSON text of the handler's result (`executed` receipts whose result is kept). */
  result: z.string().optional(),
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

/** The bundle's bytes: the one serialisation every exporter uses. */
export function bundleText(bundle: ReceiptBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}
