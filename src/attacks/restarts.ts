import type { ClassifierEngine } from '../model/engine';
import type { AttackProblem, AttackRun, StartPoint, StepHooks } from './algorithm';
import type { Random } from './random';
import { algorithmOf } from './registry';
import type { AttackSettings } from './types';

/**
 * `settings.restarts` runs of the attack on one sample (later ones from random starts; the
 * first from `first`), keeping the best: success first, then the higher objective. With
 * `untilSuccess`, stops at the first run that succeeds.
 */
export async function bestOfRestarts(
  engine: ClassifierEngine,
  problem: AttackProblem,
  settings: AttackSettings,
  random: Random,
  hooks: StepHooks,
  untilSuccess: boolean,
  first: StartPoint = settings.randomStart ? 'random' : 'zero',
): Promise<AttackRun> {
  const algorithm = algorithmOf(settings.attack);
  let best: AttackRun | undefined;
  for (let run = 0; run < settings.restarts; run++) {
    const result = await algorithm.run(engine, problem, settings, run === 0 ? first : 'random', random, hooks);
    if (!best || better(result, best)) best = result;
    if (untilSuccess && best.success[0]) break;
  }
  return best!;
}

function better(a: AttackRun, b: AttackRun): boolean {
  return a.success[0] !== b.success[0] ? a.success[0] : a.objective[0] > b.objective[0];
}
