import type { AttackAlgorithm } from './algorithm';
import { apgdCe, apgdDlr } from './apgd';
import { apgdT } from './apgd-t';
import { fgsm } from './fgsm';
import { pgd } from './pgd';
import { square } from './square';
import type { AttackName } from './types';

/** Every attack by its name: the one place a new attack is added. */
const ALGORITHMS: Record<AttackName, AttackAlgorithm> = {
  pgd,
  fgsm,
  'apgd-ce': apgdCe,
  'apgd-dlr': apgdDlr,
  'apgd-t': apgdT,
  square,
};

export const algorithmOf = (name: AttackName): AttackAlgorithm => ALGORITHMS[name];
