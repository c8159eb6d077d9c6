/**
 * The `bloomsight` command. Each subcommand lives in its own module under cli/commands.
 * Exit codes: 0 ok, 1 failed, 2 bad usage, input or configuration, 3 a service is unavailable.
 */
import { ConfigError } from '../config/load';
import { CliError } from './context';
import { applyCommand, APPLY_HELP } from './commands/apply';
import { compareCommand, COMPARE_HELP } from './commands/compare';
import { DEMO_HELP, runDemo } from './commands/demo';
import { renderCommand, RENDER_HELP } from './commands/render';
import { resumeCommand, RESUME_HELP } from './commands/resume';
import { runCommand, RUN_HELP } from './commands/run';
import { scheduleCommand, SCHEDULE_HELP } from './commands/schedule';
import { serveCommand, SERVE_HELP } from './commands/serve';
import { servicesCommand, SERVICES_HELP } from './commands/services';
import { statusCommand, STATUS_HELP } from './commands/status';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; help: string; summary: string }> = {
  demo: { run: runDemo, help: DEMO_HELP, summary: 'run the whole pipeline locally on the bundled photos (no setup needed)' },
  run: { run: runCommand, help: RUN_HELP, summary: 'start a pipeline run on the configured Temporal' },
  compare: { run: compareCommand, help: COMPARE_HELP, summary: 'train several ways of seeing on the same photos and compare them side by side' },
  status: { run: statusCommand, help: STATUS_HELP, summary: "show a run's progress (--watch to follow it)" },
  resume: { run: resumeCommand, help: RESUME_HELP, summary: 'start a failed run again; finished work is skipped' },
  schedule: { run: scheduleCommand, help: SCHEDULE_HELP, summary: 'periodic retraining: create | list | delete | trigger' },
  render: { run: renderCommand, help: RENDER_HELP, summary: 'render a video side by side with the network (MP4 + GIF)' },
  apply: { run: applyCommand, help: APPLY_HELP, summary: 'show images or folders to a trained network (side by side)' },
  serve: { run: serveCommand, help: SERVE_HELP, summary: 'serve the live camera page of every exported model, and the run reports' },
  services: { run: servicesCommand, help: SERVICES_HELP, summary: 'start or stop a local Temporal dev server and S3 server' },
};

const USAGE = `bloomsight — a network that has only seen flowers paints the world as flowers

Usage: bloomsight <command> [options]     (bloomsight <command> --help for details)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Configuration comes from BLOOMSIGHT_* environment variables or the JSON file named by BLOOMSIGHT_CONFIG
(see README). Exit codes: 0 ok, 1 failed, 2 bad usage/input/configuration, 3 a service is unavailable.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`bloomsight: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const badUsage = error instanceof ConfigError || String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
    const code = error instanceof CliError ? error.exitCode : badUsage ? 2 : 1;
    process.stderr.write(`bloomsight: ${(error as Error).message ?? String(error)}\n`);
    process.exit(code);
  },
);
