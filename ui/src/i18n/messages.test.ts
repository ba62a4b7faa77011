import { describe, expect, it } from 'vitest';
import { en } from './en';
import { format, translate } from './messages';
import { vi } from './vi';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message files', () => {
  const viKeys = Object.keys(vi).sort();
  const enKeys = Object.keys(en).sort();

  it('have exactly the same keys', () => {
    expect(enKeys).toEqual(viKeys);
    expect(viKeys.length).toBeGreaterThan(50);
  });

  it('have no empty message', () => {
    for (const [key, value] of [...Object.entries(vi), ...Object.entries(en)]) {
      expect(typeof value, key).toBe('string');
      expect(value.trim(), key).not.toBe('');
    }
  });

  it('use the same placeholders in both languages', () => {
    for (const key of viKeys) {
      const k = key as keyof typeof vi;
      expect(placeholders(en[k]), key).toEqual(placeholders(vi[k]));
    }
  });

  it('use the campaign words in Vietnamese', () => {
    expect(vi['sync.now']).toBe('Đồng bộ ngay');
    expect(vi['sync.unsent']).toBe('Chưa gửi: {n}');
    expect(vi['home.search_placeholder']).toBe('Tìm theo tên hoặc địa chỉ');
    expect(vi['enroll.submit']).toBe('Đăng ký thiết bị');
    expect(vi['sync.offline']).toBe('Không có kết nối — dữ liệu vẫn an toàn trên máy');
  });
});

describe('translate', () => {
  it('fills placeholders and keeps unknown ones', () => {
    expect(format('Chưa gửi: {n}', { n: 3 })).toBe('Chưa gửi: 3');
    expect(format('{a} {b}', { a: 'x' })).toBe('x {b}');
    expect(translate('vi', 'home.activated', { x: 2, y: 5 })).toBe('Đã kích hoạt 2/5');
    expect(translate('en', 'home.activated', { x: 2, y: 5 })).toBe('Activated 2/5');
  });
});
