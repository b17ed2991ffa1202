/**
 * The job transitions as Lua scripts: Redis runs each atomically, so two processes racing
 * to start or end a job cannot both win. KEYS[1] is the job's hash, KEYS[2] its event list.
 */

const FINAL = `local final = { succeeded = true, failed = true, cancelled = true }`;

/** queued → running. */
export const START = `
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', ARGV[1])
return 1`;

/** ARGV: progress JSON, event JSON, channel, job id. Returns the event's seq. The event log expires with the job's hash. */
export const PROGRESS = `
${FINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status or final[status] then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[1])
local seq = redis.call('RPUSH', KEYS[2], ARGV[2])
local ttl = redis.call('TTL', KEYS[1])
if seq == 1 and ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
redis.call('PUBLISH', ARGV[3], ARGV[4] .. '\\n' .. seq .. '\\n' .. ARGV[2])
return seq`;

/**
 * ARGV: status, finishedAt, result JSON, error JSON, only-if-queued flag, TTL, end event
 * JSON, channel, job id, then artifact field/value pairs. The inputs are dropped.
 */
export const FINISH = `
${FINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status or final[status] then return 0 end
if ARGV[5] == '1' and status ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finishedAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[4]) end
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 3) == 'in:' then redis.call('HDEL', KEYS[1], field) end
end
for i = 10, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local seq = redis.call('RPUSH', KEYS[2], ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[8], ARGV[9] .. '\\n' .. seq .. '\\n' .. ARGV[7])
return 1`;

/** ARGV: channel, job id. Only an existing job gets the flag (no key without a TTL). */
export const REQUEST_CANCEL = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'cancel', '1')
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;
