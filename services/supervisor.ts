/**
 * Keeps the local services running in the background for `bloomsight services up`: starts them,
 * writes their addresses (and the generated S3 keys) to `<dir>/services.json`, and stops them on SIGTERM/SIGINT.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLocalServices } from './local-services';

async function main(dir: string) {
  const services = await startLocalServices({ dir, log: (line) => console.log(line) });
  const infoFile = join(dir, 'services.json');
  // Written whole, then renamed: `services up` polls this file and must never read half of it.
  await writeFile(`${infoFile}.part`, JSON.stringify({ pid: process.pid, ...services.info }, null, 2), { mode: 0o600 });
  await rename(`${infoFile}.part`, infoFile);
  const stop = async () => {
    await services.stop();
    await rm(infoFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv[2] ?? '.bloomsight/services').catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
