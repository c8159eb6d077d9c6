export interface LongTasks {
  /** The longest main-thread task since watching began, in ms: 0 when none took over 50 ms (the long-task threshold). */
  longestMs(): number;
}

/** Watches the main thread's long tasks; undefined where the browser does not report them (only Chromium does). */
export function watchLongTasks(): LongTasks | undefined {
  if (!PerformanceObserver.supportedEntryTypes?.includes('longtask')) return undefined;
  let longest = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longest = Math.max(longest, entry.duration);
  }).observe({ type: 'longtask' });
  return { longestMs: () => longest };
}
