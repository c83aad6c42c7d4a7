/**
 * ISO 8601 as Python's datetime.fromisoformat reads what approvers write: a date, `T`,
 * time with optional fraction (up to 6 digits, as Python keeps microseconds), and an
 * optional `Z` or ±HH:MM offset. No offset means UTC (datetime.utcnow().isoformat()).
 * Returns epoch milliseconds, or null when the text is not such a timestamp.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?$/;

export function parseIsoTimestamp(text: string): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y),
    month = Number(mo),
    day = Number(d);
  const hour = Number(h),
    minute = Number(mi),
    second = Number(s ?? '0');
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const base = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over into March; Python refuses it, so do we.
  if (new Date(base).getUTCDate() !== day) return null;
  const micros = frac === undefined ? 0 : Number(frac.padEnd(6, '0'));
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const oh = Number(zone.slice(1, 3)),
      om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = sign * (oh * 60 + om);
  }
  return base + Math.floor(micros / 1000) - offsetMinutes * 60_000;
}
