// In-app links that stay real links: a plain click navigates in the page, a modified click
// (new tab, new window) is left to the browser.
export function follow(e: MouseEvent, go: () => void): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  go();
}
