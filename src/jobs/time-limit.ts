import type { Config } from '../config';
import { type AppError, appError } from '../errors';

/** The settings a job kind's time limit comes from (queue wait included). */
export type TimeLimitSetting = 'ADVPROBE_JOB_TIMEOUT_MS' | 'ADVPROBE_TRAINING_TIMEOUT_MS';
export type TimeLimits = Pick<Config, TimeLimitSetting>;

export interface TimeLimit {
  ms: number;
  setting: TimeLimitSetting;
}

export const timeLimit = (limits: TimeLimits, setting: TimeLimitSetting): TimeLimit => ({ ms: limits[setting], setting });

/** The error a job ends with past its limit (503: it may succeed when the service is less busy). */
export const timedOut = ({ ms, setting }: TimeLimit): AppError => appError('job_timeout', { ms, setting, retryAfter: 5 });
