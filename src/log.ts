import type { BaseLogger } from 'pino';

/** The logging the services need; pino loggers and fastify's request/app loggers all fit. */
export type Log = Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>;
