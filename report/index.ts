/**
 * The static HTML run report: parameters, dataset counts, held-out examples, loss curves and the
 * video in one self-contained file. Library code only (no Temporal): the pipeline gathers the
 * data, calls buildReport, and writes the string where it likes.
 */
export { buildReport, redactSecrets, REDACTED, ReportDataSchema, type ReportData } from './build-report';
export { escapeHtml, html, SafeHtml, trusted } from './html';
export { bucketSeries, lineChart, niceTicks, type Bucket, type LineChartOptions, type Point } from './svg-chart';
