import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchIdle } from './idle';

describe('watchIdle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires once after the idle time, and activity pushes it back', () => {
    const onIdle = vi.fn();
    const stop = watchIdle(60, onIdle);
    vi.advanceTimersByTime(50_000);
    window.dispatchEvent(new Event('pointerdown'));
    vi.advanceTimersByTime(50_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(15_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(120_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    stop();
  });

  it('locks at once when a phone comes back after sleeping longer than the idle time', () => {
    const onIdle = vi.fn();
    let clock = 0;
    const stop = watchIdle(300, onIdle, window, () => clock);
    clock = 10 * 60 * 1000; // timers were frozen while the phone slept
    document.dispatchEvent(new Event('visibilitychange'));
    expect(onIdle).toHaveBeenCalledTimes(1);
    stop();
  });

  it('stops watching when told', () => {
    const onIdle = vi.fn();
    watchIdle(1, onIdle)();
    vi.advanceTimersByTime(10_000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});
