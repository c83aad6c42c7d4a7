import type { ExportBundleDto } from '../../../shared/console-dto';
import { EXPORT_CAP, type ReceiptQuery } from '../../../shared/console-schemas';
import { callConsole, errorText } from '../bridge';

export { EXPORT_CAP };

export interface ExportedBundle extends ExportBundleDto {
  /** When the window asked for it: names the file. */
  exportedAt: string;
}

/**
 * Asks the main process for the bundle of this search (docs/receipts.md, "Export bundles"):
 * it is built and serialised there, in the one place `openexec export` uses too, so the file
 * holds the same bytes either way. `onProgress` hears the count once it is known.
 */
export async function collectBundle(
  query: ReceiptQuery,
  onProgress: (count: number) => void,
): Promise<{ bundle: ExportedBundle } | { error: string }> {
  const { beforeSeq: _before, limit: _limit, ...filters } = query;
  const exportedAt = new Date().toISOString();
  const result = await callConsole('exportBundle', filters);
  if (!result.ok) return { error: `The export failed: ${errorText(result.error)}` };
  onProgress(result.value.count);
  return { bundle: { ...result.value, exportedAt } };
}

/** Offers the bundle's text as a file download (a Blob URL: nothing leaves the machine). */
export function downloadText(text: string, fileName: string): void {
  const blob = new Blob([text], { type: 'application/json' });
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
