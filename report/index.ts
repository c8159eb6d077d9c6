/**
 * The static HTML reports, each one self-contained file: the run report (parameters, dataset counts,
 * held-out examples, loss curves, the video) and the comparison report (several variants side by
 * side). Library code only (no Temporal): the workflows gather the data, call buildReport or
 * buildComparisonReport, and write the string where they like.
 */
export { buildReport, redactSecrets, REDACTED, ReportDataSchema, type ReportData } from './build-report';
export { buildComparisonReport, ComparisonReportDataSchema, VARIANT_COLOURS, type ComparisonReportData } from './comparison-report';
export { escapeHtml, html, SafeHtml, trusted } from './html';
export { bucketSeries, lineChart, linesChart, niceTicks, type Bucket, type LineChartOptions, type Point, type Series } from './svg-chart';
