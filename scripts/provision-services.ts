/**
 * Finds or installs the binaries of the local services, so the first test run does not wait on a build.
 * `--tests` adds what only the tests use: MinIO's server (a 5-minute build the demo does not need) and
 * check-jsonschema (validates docker-compose.yml).
 */
import { ffmpegBinaries, minioBinary, temporalBinary, versitygwBinary } from '../services/binaries';
import { checkJsonschema } from '../services/tools';

async function main() {
  const started = Date.now();
  const [temporal, versitygw] = await Promise.all([temporalBinary(), versitygwBinary()]);
  console.log(`[setup] temporal: ${temporal}`);
  console.log(`[setup] versitygw: ${versitygw}`);
  if (process.argv.includes('--tests')) {
    // After versitygw, not beside it: two Go builds at once would only fight over two cores.
    const minio = await minioBinary();
    console.log(`[setup] minio: ${minio}`);
    const validator = await checkJsonschema();
    console.log(`[setup] check-jsonschema: ${validator.env.PYTHONPATH}`);
  }
  try {
    const { ffmpeg } = await ffmpegBinaries();
    console.log(`[setup] ffmpeg: ${ffmpeg}`);
  } catch (error) {
    console.log(`[setup] WARNING: ${(error as Error).message}`);
  }
  console.log(`[setup] service binaries ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(`[setup] ${(error as Error).message}`);
  process.exit(1);
});
