//! Which rows of a long list to draw: the ones on screen plus a margin, with measured heights.

/** Row heights: measured once a row has been drawn, an estimate until then. */
export class RowHeights {
  private heights: number[] = [];
  private measured: boolean[] = [];
  private measuredSum = 0;
  private measuredCount = 0;
  /** Start offset of each row, rebuilt lazily after a change. */
  private offsets: number[] | null = null;

  constructor(
    private readonly fallback: number,
    private readonly gap: number,
  ) {}

  /** The height assumed for a row not drawn yet: the mean of those measured so far. */
  get estimate(): number {
    return this.measuredCount > 0 ? this.measuredSum / this.measuredCount : this.fallback;
  }

  /** Fits the table to `count` rows, keeping what is known of the first ones. */
  resize(count: number): void {
    if (count === this.heights.length) return;
    if (count < this.heights.length) {
      for (let i = count; i < this.heights.length; i++) {
        if (this.measured[i]) {
          this.measuredSum -= this.heights[i];
          this.measuredCount -= 1;
        }
      }
      this.heights.length = count;
      this.measured.length = count;
    } else {
      for (let i = this.heights.length; i < count; i++) {
        this.heights.push(Number.NaN);
        this.measured.push(false);
      }
    }
    this.offsets = null;
  }

  /** Forgets every measurement (the rows now hold other items). */
  clear(): void {
    this.heights = [];
    this.measured = [];
    this.measuredSum = 0;
    this.measuredCount = 0;
    this.offsets = null;
  }

  /** Records a drawn row's height; says whether anything changed. */
  measure(index: number, height: number): boolean {
    if (index < 0 || index >= this.heights.length || !(height > 0)) return false;
    if (this.measured[index] && this.heights[index] === height) return false;
    if (this.measured[index]) this.measuredSum -= this.heights[index];
    else this.measuredCount += 1;
    this.measured[index] = true;
    this.heights[index] = height;
    this.measuredSum += height;
    this.offsets = null;
    return true;
  }

  private height(index: number): number {
    return this.measured[index] ? this.heights[index] : this.estimate;
  }

  private table(): number[] {
    if (this.offsets) return this.offsets;
    const offsets = new Array<number>(this.heights.length + 1);
    let y = 0;
    for (let i = 0; i < this.heights.length; i++) {
      offsets[i] = y;
      y += this.height(i) + (i + 1 < this.heights.length ? this.gap : 0);
    }
    offsets[this.heights.length] = y;
    this.offsets = offsets;
    return offsets;
  }

  /** Where row `index` starts, from the top of the list. */
  offsetOf(index: number): number {
    const table = this.table();
    return table[Math.max(0, Math.min(index, table.length - 1))];
  }

  /** The whole list's height. */
  get total(): number {
    const table = this.table();
    return table[table.length - 1];
  }

  /** Space from the top of row `end` to the end of the list, the gap before it included. */
  spaceFrom(end: number): number {
    const table = this.table();
    const count = table.length - 1;
    if (end >= count) return 0;
    return table[count] - table[Math.max(0, end)] + (end > 0 ? this.gap : 0);
  }

  /** The row that covers `y` (the last one when `y` is past the end). */
  rowAt(y: number): number {
    const table = this.table();
    const count = table.length - 1;
    if (count <= 0) return 0;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (table[mid] <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export interface RowWindow {
  /** First row drawn. */
  start: number;
  /** One past the last row drawn. */
  end: number;
  /** Space left above the first row drawn, in px. */
  before: number;
  /** Space left below the last row drawn, in px. */
  after: number;
}

/**
 * The rows to draw when the list's top is `listTop` px below the top of the page and the screen
 * shows the page from `viewTop` to `viewTop + viewHeight`; `overscan` px are drawn either side so a
 * quick flick never shows a blank.
 */
export function rowWindow(
  rows: RowHeights,
  count: number,
  listTop: number,
  viewTop: number,
  viewHeight: number,
  overscan: number,
): RowWindow {
  if (count <= 0) return { start: 0, end: 0, before: 0, after: 0 };
  const from = Math.max(0, viewTop - listTop - overscan);
  const to = Math.max(0, viewTop + viewHeight - listTop + overscan);
  const start = rows.rowAt(from);
  const end = Math.min(count, rows.rowAt(to) + 1);
  return { start, end, before: rows.offsetOf(start), after: rows.spaceFrom(end) };
}
