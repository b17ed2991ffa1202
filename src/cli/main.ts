/**
 * `npx advprobe`: the service's engine and attacks without a server.
 *   advprobe classify FILE... [--topk 5]
 *   advprobe attack FILE [--attack apgd-ce --epsilon 2/255 --steps 10 --target airliner --mode minimal ... --out DIR]
 *   advprobe eval DIR --labels labels.json --eps 1/255,2/255,4/255 [--attacks autoattack --steps 10 --limit N --out DIR]
 *   advprobe train DIR --labels labels.json --out DIR [--name N --epsilon 1/255 --trainable all --epochs 4 ...]
 * Option names are the HTTP fields' (see openapi.yaml); settings come from the same
 * environment variables as the service (ADVPROBE_BACKEND, ADVPROBE_RESIZE, ...).
 */
import { parseArgs } from 'node:util';
import { ATTACK_NAMES } from '../attacks/registry';
import { attackUsage } from '../attacks/docs';
import { AppError } from '../errors';
import { AttackFields } from '../contract/attack-params';
import { EvaluationFields } from '../contract/evaluation-params';
import { TrainingFields } from '../contract/training-params';
import { attackCommand, classifyCommand, evaluateCommand, trainCommand } from './commands';

const USAGE = `usage:
  advprobe classify FILE... [--topk N]
  advprobe attack FILE [--attack ${ATTACK_NAMES.join('|')}] [--epsilon 2/255] [ARGUMENTS of the attack]
                       [--target LABEL|INDEX|random|least-likely] [--mode attack|minimal] [--norm linf|l2] [--seed N] [--out DIR] ...
  advprobe eval DIR --labels labels.json --eps 1/255,2/255,4/255 [--attacks pgd|autoattack|LIST] [ARGUMENTS]
                       [--limit N] [--out DIR] ...
  advprobe train DIR --labels labels.json [--out DIR] [--name NAME] [--model NAME] [--epsilon 1/255] [--attackSteps 3]
                       [--trainable fc|last-stage|all] [--epochs 4] [--batchSize 8] [--learningRate 1e-4] [--holdout 0.2] [--seed N] ...
Options take the names of the HTTP fields (openapi.yaml); attack writes FILE's PNGs next to it (or in --out);
eval writes evaluation.json, .csv, .svg and .png to --out (default: the current folder);
train writes training.json, .svg and .png there and saves the new model in ADVPROBE_MODELS_DIR.
--out folders are created (and checked writable) before anything is computed.
attacks and their arguments, with their defaults:
${attackUsage()}`;

export async function main(argv: string[]): Promise<number> {
  // Every option takes a value (--steps 20, --randomStart true); the schemas convert them.
  const names = new Set([...Object.keys(AttackFields.properties), ...Object.keys(EvaluationFields.properties), ...Object.keys(TrainingFields.properties), 'topk', 'out', 'limit', 'eps', 'labels']);
  const options = Object.fromEntries([...names].map((name) => [name, { type: 'string' as const }]));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    console.error(`advprobe: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const [command, ...rest] = positionals;
  const flags = values as Record<string, string | boolean | undefined>;
  if (!command || flags.help) {
    console.log(USAGE);
    return command || flags.help ? 0 : 2;
  }
  try {
    if (command === 'classify' && rest.length > 0) await classifyCommand(rest, flags);
    else if (command === 'attack' && rest.length === 1) await attackCommand(rest[0], flags);
    else if (command === 'eval' && rest.length === 1) await evaluateCommand(rest[0], flags);
    else if (command === 'train' && rest.length === 1) await trainCommand(rest[0], flags);
    else {
      console.error(USAGE);
      return 2;
    }
    return 0;
  } catch (err) {
    // Bad options come back as the same 400 errors the HTTP API gives.
    // The terminal is the CLI's log: an error's internal cause is shown here, not hidden as over HTTP.
    const cause = err instanceof AppError && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    console.error(`advprobe ${command}: ${err instanceof Error ? err.message : String(err)}${cause}`);
    return err instanceof AppError && err.statusCode < 500 ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
