/**
 * An attack's settings from what a request chose: the shared settings as given, each of the
 * attack's own arguments from the choice or its default (its definition's `resolve`), and
 * the arguments it does not take at neutral values (reported as 0 or false in results).
 */
import type { AttackChoices } from './algorithm';
import { NEUTRAL, type ArgumentName } from './arguments';
import { attackOf } from './registry';
import type { AttackName, AttackSettings } from './types';

export type { AttackChoices };

export function settingsFor(attack: AttackName, choices: AttackChoices): AttackSettings {
  const definition = attackOf(attack);
  const { norm, epsilon, restarts, earlyStop, clamp, seed, quantize } = choices;
  return {
    attack,
    norm,
    epsilon,
    ...NEUTRAL,
    loss: choices.loss ?? definition.losses[0],
    ...definition.resolve(choices),
    restarts,
    earlyStop,
    clamp,
    seed,
    quantize,
  };
}

/** Whether `attack` takes the argument (a request that sets one it does not take is refused). */
export const takes = (attack: AttackName, argument: ArgumentName): boolean => argument in attackOf(attack).arguments;

/** The losses `attack` can maximise, its default first. */
export const lossesOf = (attack: AttackName): readonly string[] => attackOf(attack).losses;
