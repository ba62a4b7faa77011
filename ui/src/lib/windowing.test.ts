import { describe, expect, it } from 'vitest';
import { RowHeights, rowWindow } from './windowing';

describe('RowHeights', () => {
  it('lays out unmeasured rows at the fallback, then at the mean of those measured', () => {
    const rows = new RowHeights(100, 8);
    rows.resize(3);
    expect(rows.total).toBe(3 * 100 + 2 * 8);
    expect(rows.offsetOf(2)).toBe(216);
    expect(rows.measure(0, 60)).toBe(true);
    expect(rows.measure(0, 60)).toBe(false);
    expect(rows.estimate).toBe(60);
    expect(rows.total).toBe(3 * 60 + 2 * 8);
    rows.measure(1, 80);
    expect(rows.estimate).toBe(70);
    expect(rows.offsetOf(2)).toBe(60 + 8 + 80 + 8);
  });

  it('finds the row under a point with a binary search, clamped at both ends', () => {
    const rows = new RowHeights(50, 10);
    rows.resize(1000);
    expect(rows.rowAt(-5)).toBe(0);
    expect(rows.rowAt(0)).toBe(0);
    expect(rows.rowAt(59)).toBe(0);
    expect(rows.rowAt(60)).toBe(1);
    expect(rows.rowAt(600 * 100 + 1)).toBe(999);
  });

  it('ignores nonsense measurements and forgets removed rows', () => {
    const rows = new RowHeights(40, 0);
    rows.resize(2);
    expect(rows.measure(5, 30)).toBe(false);
    expect(rows.measure(0, 0)).toBe(false);
    expect(rows.measure(1, Number.NaN)).toBe(false);
    rows.measure(1, 90);
    rows.resize(1);
    expect(rows.estimate).toBe(40);
    rows.clear();
    expect(rows.total).toBe(0);
  });
});

describe('rowWindow', () => {
  it('draws a screenful plus the margin out of 12,000 rows, and the spacers keep the full height', () => {
    const rows = new RowHeights(100, 8);
    const count = 12_000;
    rows.resize(count);
    const w = rowWindow(rows, count, 300, 50_000, 640, 400);
    // rows from (50000-300-400) to (50000+640-300+400) px, 108 px apart
    expect(w.start).toBe(Math.floor(49_300 / 108));
    expect(w.end).toBe(Math.floor(50_740 / 108) + 1);
    expect(w.end - w.start).toBeLessThan(20);
    const drawn = (w.end - w.start) * 100 + (w.end - w.start - 1) * 8;
    expect(w.before + drawn + w.after).toBe(rows.total);
  });

  it('starts at the top before the list scrolls into view, and ends at the last row', () => {
    const rows = new RowHeights(100, 8);
    rows.resize(50);
    const top = rowWindow(rows, 50, 2000, 0, 640, 0);
    expect(top).toMatchObject({ start: 0, end: 1, before: 0 });
    const bottom = rowWindow(rows, 50, 0, 1e9, 640, 400);
    expect(bottom).toMatchObject({ start: 49, end: 50, after: 0 });
    expect(bottom.before).toBe(rows.offsetOf(49));
    expect(rowWindow(rows, 0, 0, 0, 640, 400)).toEqual({ start: 0, end: 0, before: 0, after: 0 });
  });
});
