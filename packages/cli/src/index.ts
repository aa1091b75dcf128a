/**
 * @capi-kit/cli: the `capi-kit` command (send-test, doctor, upload, mock; Meta, and TikTok beside
 * it), and the pieces it is made of for programs that want them.
 */
export {
  API_VERSIONS,
  type ApiVersionInfo,
  checkApiVersion,
  type VersionVerdict,
} from './api-versions.js';
export { runCli } from './cli.js';
export { type CsvOptions, type CsvRecord, readCsvRecords } from './csv.js';
export { CliError, EXIT_CODES, type ExitCode } from './exit-codes.js';
export type { CliIo, OutputStream } from './terminal.js';
