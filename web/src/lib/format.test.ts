// Formatting, error wording, the asked report in the address and the campaign kept when moving.
import { describe, expect, it } from 'vitest';
import { ApiError, parseRetryAfter } from '../api/http';
import { COMMUNE, HAMLET1, PROVINCE } from '../test/fixtures';
import { errorMessage } from './errors';
import { count, formatDate, formatWait, percent } from './format';
import { reasonLabel } from './reasons';
import { askForPlace, readAsk } from './route';

describe('format', () => {
  it('writes rates the Vietnamese and the English way', () => {
    expect(percent(0.457, 'vi')).toBe('45,7 %');
    expect(percent(0.457, 'en')).toBe('45.7%');
    expect(percent(1.2, 'vi')).toBe('120,0 %');
    expect(percent(0, 'en')).toBe('0.0%');
    expect(percent(null, 'vi')).toBe('—');
    expect(percent(Number.NaN, 'vi')).toBe('—');
  });

  it('groups thousands and writes days DD/MM/YYYY', () => {
    expect(count(1234567, 'vi')).toBe('1.234.567');
    expect(count(1234567, 'en')).toBe('1,234,567');
    expect(count(999, 'vi')).toBe('999');
    expect(count(null, 'vi')).toBe('—');
    expect(formatDate('2026-12-07')).toBe('07/12/2026');
  });

  it('says waits in words', () => {
    expect(formatWait(45, 'vi')).toBe('45 giây');
    expect(formatWait(300, 'vi')).toBe('5 phút');
    expect(formatWait(150, 'vi')).toBe('2 phút 30 giây');
    expect(formatWait(60, 'en')).toBe('1 min');
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(null)).toBeNull();
    const now = Date.parse('2026-12-07T10:00:00Z');
    expect(parseRetryAfter('Mon, 07 Dec 2026 10:01:00 GMT', now)).toBe(60);
  });

  it('labels reasons, an unknown code as itself', () => {
    expect(reasonLabel('needs_unlock', 'vi')).toBe('Cần mở khóa tài khoản');
    expect(reasonLabel('withheld', 'vi')).toBe('Không hiển thị');
    expect(reasonLabel('local_code', 'vi')).toBe('local_code');
  });

  it("words errors: the server's message, else by code or status", () => {
    expect(errorMessage(new ApiError(401, 'invalid_credentials', 'Sai / Wrong'), 'vi')).toBe('Sai / Wrong');
    expect(errorMessage(new ApiError(404, 'not_found', ''), 'en')).toBe('Place or campaign not found.');
    expect(errorMessage(new ApiError(502, '', ''), 'vi')).toContain('Máy chủ tạm thời');
    expect(errorMessage(new ApiError(418, '', ''), 'vi')).toBe('Đã xảy ra lỗi (mã 418).');
    expect(errorMessage(new ApiError(0, 'network', ''), 'vi')).toContain('Không kết nối được máy chủ');
    expect(errorMessage(new ApiError(429, 'too_many_requests', '', 30), 'vi')).toBe('Thử quá nhiều lần. Vui lòng thử lại sau 30 giây.');
    const said = 'Đăng nhập sai nhiều lần, hãy thử lại sau 90 giây / too many failed sign-ins: try again in 90 s';
    expect(errorMessage(new ApiError(429, 'too_many_requests', said, 90), 'vi')).toBe(said);
  });
});

describe('route', () => {
  it('reads the ask from the address, days only in pairs', () => {
    expect(readAsk('?place=03445&campaign=c1')).toEqual({ place: '03445', campaign: 'c1', from: null, until: null });
    expect(readAsk('?from=2026-11-01&until=2026-11-30')).toEqual({ place: null, campaign: null, from: '2026-11-01', until: '2026-11-30' });
    expect(readAsk('?from=2026-11-01')).toEqual({ place: null, campaign: null, from: null, until: null });
  });

  it('keeps a campaign going down, and going up only to where it runs', () => {
    const ask = { place: '03445-01', campaign: 'c1', from: null, until: null };
    const lineage = [PROVINCE, COMMUNE, HAMLET1];
    expect(askForPlace({ ...ask, place: '03445' }, '03445-02', [PROVINCE, COMMUNE], '03445').campaign).toBe('c1');
    expect(askForPlace(ask, '03445', lineage, '03445').campaign).toBe('c1');
    expect(askForPlace(ask, '12', lineage, '03445').campaign).toBeNull();
    expect(askForPlace(ask, '12', lineage, null).campaign).toBeNull();
  });
});
