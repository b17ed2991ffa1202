import type { AttackDefinition } from './algorithm';
import { apgdCe, apgdDlr } from './apgd';
import { apgdT } from './apgd-t';
import { fgsm } from './fgsm';
import { pgd } from './pgd';
import { square } from './square';

/**
 * Every attack, in the order the docs and the playground list them: the one line a new attack
 * adds (a list rather than a scan of the folder, so that the names stay a type).
 */
export const ATTACKS = [pgd, fgsm, apgdCe, apgdDlr, apgdT, square] as const;

export type AttackName = (typeof ATTACKS)[number]['name'];
export const ATTACK_NAMES: readonly AttackName[] = ATTACKS.map((a) => a.name);

const BY_NAME = new Map<string, AttackDefinition>(ATTACKS.map((a) => [a.name, a as AttackDefinition]));

export const attackOf = (name: AttackName): AttackDefinition => BY_NAME.get(name)!;

export const isAttackName = (name: string): name is AttackName => BY_NAME.has(name);
