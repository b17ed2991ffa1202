import type { ClassifierEngine } from '../model/engine';
import { pgdRun, type PgdHooks, type PgdProblem, type PgdRun, type StartPoint } from './pgd';
import type { Random } from './random';
import type { PgdSettings } from './types';

/**
 * `settings.restarts` PGD runs of one sample (later ones from random starts; the first from
 * `first`), keeping the best: success first, then the higher objective. With
 * `untilSuccess`, stops at the first run that succeeds.
 */
export async function bestOfRestarts(
  engine: ClassifierEngine,
  problem: PgdProblem,
  settings: PgdSettings,
  random: Random,
  hooks: PgdHooks,
  untilSuccess: boolean,
  first: StartPoint = settings.randomStart ? 'random' : 'zero',
): Promise<PgdRun> {
  let best: PgdRun | undefined;
  for (let run = 0; run < settings.restarts; run++) {
    const result = await pgdRun(engine, problem, settings, run === 0 ? first : 'random', random, hooks);
    if (!best || better(result, best)) best = result;
    if (untilSuccess && best.success[0]) break;
  }
  return best!;
}

function better(a: PgdRun, b: PgdRun): boolean {
  return a.success[0] !== b.success[0] ? a.success[0] : a.objective[0] > b.objective[0];
}
