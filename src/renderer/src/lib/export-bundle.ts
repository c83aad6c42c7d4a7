import type { KeyInfoDto, ReceiptDto, ReceiptPage } from '../../../shared/console-dto';
import type { ConsoleResult } from '../../../shared/console-result';
import type { ReceiptQuery } from '../../../shared/console-schemas';
import { callConsole, errorText } from '../bridge';

export const EXPORT_CAP = 10_000;
const EXPORT_PAGE = 500;

export interface ReceiptBundle {
  format: 'openexec-receipt-bundle';
  version: 1;
  exportedAt: string;
  query: ReceiptQuery;
  receiptPublicKey: KeyInfoDto;
  /** False when the search has more than EXPORT_CAP receipts and only the newest were taken. */
  complete: boolean;
  count: number;
  howToVerify: string;
  /** Newest first, exactly as the ledger holds them (`body` is the signed text, byte for byte). */
  receipts: ReceiptDto[];
}

/** Pages through the whole search (newest first, up to EXPORT_CAP) and adds the public key. */
export async function collectBundle(
  query: ReceiptQuery,
  onProgress: (count: number) => void,
): Promise<{ bundle: ReceiptBundle } | { error: string }> {
  const key = await callConsole('receiptPublicKey');
  if (!key.ok) return { error: `Could not get the receipt public key: ${errorText(key.error)}` };
  const receipts: ReceiptDto[] = [];
  let beforeSeq: number | null = null;
  let complete = true;
  for (;;) {
    const page: ConsoleResult<ReceiptPage> = await callConsole('searchReceipts', {
      ...query,
      limit: EXPORT_PAGE,
      ...(beforeSeq !== null ? { beforeSeq } : {}),
    });
    if (!page.ok) return { error: `The search failed while exporting: ${errorText(page.error)}` };
    receipts.push(...page.value.items);
    onProgress(receipts.length);
    beforeSeq = page.value.nextBeforeSeq;
    if (beforeSeq === null) break;
    if (receipts.length >= EXPORT_CAP) {
      complete = false;
      break;
    }
  }
  return {
    bundle: {
      format: 'openexec-receipt-bundle',
      version: 1,
      exportedAt: new Date().toISOString(),
      query,
      receiptPublicKey: key.value,
      complete,
      count: receipts.length,
      howToVerify:
        'For each receipt: sha256 hex of the UTF-8 body equals hash; body.prev_hash equals the previous receipt’s hash ' +
        '(64 zeros for seq 1); signature is base64 Ed25519 over the UTF-8 body, verifiable with receiptPublicKey. See docs/receipts.md.',
      receipts,
    },
  };
}

/** Offers the bundle as a file download (a Blob URL: nothing leaves the machine). */
export function downloadJson(value: unknown, fileName: string): void {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
