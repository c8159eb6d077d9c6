/** Finds or installs the binaries of the local services, so the first test run does not wait on a build. */
import { ffmpegBinaries, temporalBinary, versitygwBinary } from '../services/binaries';

async function main() {
  const started = Date.now();
  const [temporal, versitygw] = await Promise.all([temporalBinary(), versitygwBinary()]);
  console.log(`[setup] temporal: ${temporal}`);
  console.log(`[setup] versitygw: ${versitygw}`);
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
