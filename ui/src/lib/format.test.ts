import { describe, expect, it } from 'vitest';
import { formatClock, formatDate, formatLastSync, formatRelative, maskCccd, normalizeCode, parseWhole, todayIso } from './format';

describe('maskCccd', () => {
  it('shows only the last 4 digits', () => {
    expect(maskCccd('001090000123')).toBe('********0123');
    expect(maskCccd('001 090 000 123')).toBe('********0123');
  });
  it('handles missing and short values', () => {
    expect(maskCccd(null)).toBe('');
    expect(maskCccd(undefined)).toBe('');
    expect(maskCccd('')).toBe('');
    expect(maskCccd('123')).toBe('***');
    expect(maskCccd('12345')).toBe('*2345');
  });
});

describe('last sync time', () => {
  // Built from local components, so the expectations hold in any time zone.
  const now = new Date(2025, 10, 22, 14, 30, 0);
  const at = (min: number) => new Date(now.getTime() - min * 60_000).toISOString();

  it('is absolute as HH:mm dd/MM', () => {
    expect(formatClock(new Date(2025, 10, 22, 9, 5), now)).toBe('09:05 22/11');
    expect(formatClock(new Date(2024, 0, 3, 23, 59), now)).toBe('23:59 03/01/2024');
  });

  it('adds a relative hint within the last hour', () => {
    expect(formatLastSync(at(0), now, 'vi')).toBe('14:30 22/11 (vừa xong)');
    expect(formatLastSync(at(5), now, 'vi')).toBe('14:25 22/11 (5 phút trước)');
    expect(formatLastSync(at(5), now, 'en')).toBe('14:25 22/11 (5 min ago)');
    expect(formatLastSync(at(59), now, 'vi')).toBe('13:31 22/11 (59 phút trước)');
  });

  it('is only absolute after an hour', () => {
    expect(formatLastSync(at(60), now, 'vi')).toBe('13:30 22/11');
    expect(formatLastSync(at(60 * 24), now, 'en')).toBe('14:30 21/11');
  });

  it('is null when never synced and raw when unparsable', () => {
    expect(formatLastSync(null, now, 'vi')).toBeNull();
    expect(formatLastSync('not a date', now, 'vi')).toBe('not a date');
  });

  it('treats a clock skewed into the future as just now', () => {
    expect(formatRelative(new Date(now.getTime() + 90_000), now, 'vi')).toBe('vừa xong');
  });
});

describe('dates and inputs', () => {
  it('formats YYYY-MM-DD as dd/MM/yyyy', () => {
    expect(formatDate('2025-12-01')).toBe('01/12/2025');
    expect(formatDate(null)).toBe('');
  });
  it('gives today as YYYY-MM-DD', () => {
    expect(todayIso(new Date(2025, 0, 9))).toBe('2025-01-09');
  });
  it('normalizes enrollment codes', () => {
    expect(normalizeCode(' abcd-efgh ')).toBe('ABCD-EFGH');
    expect(normalizeCode('abcdefgh')).toBe('ABCD-EFGH');
    expect(normalizeCode('ab12')).toBe('AB12');
  });
  it('parses whole numbers only', () => {
    expect(parseWhole('12')).toBe(12);
    expect(parseWhole(' 0 ')).toBe(0);
    expect(parseWhole('')).toBeNull();
    expect(parseWhole('1.5')).toBeNull();
    expect(parseWhole('-3')).toBeNull();
    expect(parseWhole('abc')).toBeNull();
  });
});
