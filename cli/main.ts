/**
 * The `bloomsight` command. Each subcommand lives in its own module under cli/commands.
 * Exit codes: 0 ok, 1 failed, 2 bad usage or configuration, 3 a service is unavailable.
 */
import { runDemo } from './commands/demo';

const USAGE = `bloomsight — a network that has only seen flowers paints the world as flowers

Usage: bloomsight <command> [options]

Commands:
  demo        start a local Temporal dev server and workers, run the pipeline on the bundled photos,
              and leave the results in ./bloomsight-demo
  help        this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return runDemo(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`bloomsight: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bloomsight: ${(error as Error).message ?? String(error)}\n`);
    process.exit(1);
  },
);
