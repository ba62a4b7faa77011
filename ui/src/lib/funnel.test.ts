import { describe, expect, it } from 'vitest';
import type { FunnelState } from '../bindings/FunnelState';
import { FUNNEL_STATES, VISIT_ACTIONS, actionLabel, funnelLabel, isActivated, isFunnelState } from './funnel';

const VI: Record<FunnelState, string> = {
  no_chip_cccd: 'Chưa có CCCD gắn chip',
  not_registered: 'Chưa đăng ký',
  registered_pending: 'Đã đăng ký, chờ phê duyệt',
  approved_not_activated: 'Đã phê duyệt, chưa kích hoạt',
  activated_level1: 'Đã kích hoạt mức 1',
  activated_level2: 'Đã kích hoạt mức 2',
  used_portal: 'Đã dùng VNeID đăng nhập Cổng DVC',
};

const EN: Record<FunnelState, string> = {
  no_chip_cccd: 'No chip-based ID card yet',
  not_registered: 'Not registered',
  registered_pending: 'Registered, awaiting approval',
  approved_not_activated: 'Approved, not activated',
  activated_level1: 'Activated, level 1',
  activated_level2: 'Activated, level 2',
  used_portal: 'Used VNeID on the public-service portal',
};

describe('funnel states', () => {
  it('lists all 7 states in funnel order', () => {
    expect(FUNNEL_STATES).toEqual([
      'no_chip_cccd',
      'not_registered',
      'registered_pending',
      'approved_not_activated',
      'activated_level1',
      'activated_level2',
      'used_portal',
    ]);
  });

  it('labels every state in both languages', () => {
    for (const s of FUNNEL_STATES) {
      expect(funnelLabel(s, 'vi')).toBe(VI[s]);
      expect(funnelLabel(s, 'en')).toBe(EN[s]);
    }
    expect(new Set(FUNNEL_STATES.map((s) => funnelLabel(s, 'vi'))).size).toBe(7);
    expect(new Set(FUNNEL_STATES.map((s) => funnelLabel(s, 'en'))).size).toBe(7);
  });

  it('counts only the last three as activated', () => {
    const activated = FUNNEL_STATES.filter((s) => isActivated(s));
    expect(activated).toEqual(['activated_level1', 'activated_level2', 'used_portal']);
    expect(isActivated(null)).toBe(false);
    expect(isActivated(undefined)).toBe(false);
  });

  it('recognises state codes', () => {
    expect(isFunnelState('used_portal')).toBe(true);
    expect(isFunnelState('unvisited')).toBe(false);
    expect(isFunnelState('')).toBe(false);
    expect(isFunnelState('toString')).toBe(false);
  });
});

describe('visit actions', () => {
  it('labels the 5 actions with the campaign words', () => {
    expect(VISIT_ACTIONS.map((a) => actionLabel(a, 'vi'))).toEqual([
      'Cài đặt ứng dụng VNeID',
      'Hướng dẫn đăng ký mức 1',
      'Hướng dẫn đến Công an xã đăng ký mức 2',
      'Hướng dẫn kích hoạt tài khoản',
      'Hướng dẫn đăng nhập Cổng dịch vụ công',
    ]);
    for (const a of VISIT_ACTIONS) expect(actionLabel(a, 'en')).not.toBe('');
  });
});
