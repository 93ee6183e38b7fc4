import { createHash } from 'node:crypto';

/**
 * One step on the schedule (see RateLimitStore), atomically, on Redis's own clock (`TIME`), so the clocks of
 * the processes never matter. KEYS[1] = the TAT, KEYS[2] = the log (a sorted set: id → when its place is freed).
 * ARGV[1] = the operation:
 *   'reserve'  ARGV[2] interval, ARGV[3] limit, ARGV[4] hold, ARGV[5] id ('' = not tracked) → ms to wait, '0' = admitted
 *   'complete' ARGV[2] id, ARGV[3] window, ARGV[4] channel → '0'; publishes the window on the channel
 *   'hold'     ARGV[2] id, ARGV[3] hold                    → '0'; never shortens a hold
 *   'penalize' ARGV[2] ms                                  → '0'
 * Both keys expire once they no longer matter (a missing key means idle). Numbers travel as strings, because
 * Redis truncates Lua numbers in replies to integers. PUBLISH inside the script reaches every node of a Cluster.
 */
export const GCRA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local op = ARGV[1]
local function ms(n) return string.format('%.3f', n) end
local function keep(key, untilMs) redis.call('PEXPIRE', key, math.max(0, math.ceil(untilMs - now)) + 1000) end
local function keepLog()
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if last[2] then keep(KEYS[2], tonumber(last[2])) end
end

if op == 'penalize' then
  local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now) + tonumber(ARGV[2])
  redis.call('SET', KEYS[1], ms(tat))
  keep(KEYS[1], tat)
  return '0'
end

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms(now))
if op == 'complete' or op == 'hold' then
  local held = redis.call('ZSCORE', KEYS[2], ARGV[2])
  if not held then return '0' end
  local freed = now + tonumber(ARGV[3])
  if op == 'hold' and tonumber(held) >= freed then return '0' end
  redis.call('ZADD', KEYS[2], ms(freed), ARGV[2])
  keepLog()
  if op == 'complete' then redis.call('PUBLISH', ARGV[4], ARGV[3]) end
  return '0'
end

local tat = tonumber(redis.call('GET', KEYS[1])) or now
local wait = tat - now
local limit = tonumber(ARGV[3])
local held = redis.call('ZCARD', KEYS[2])
if held >= limit then
  local freed = redis.call('ZRANGE', KEYS[2], held - limit, held - limit, 'WITHSCORES')
  wait = math.max(wait, tonumber(freed[2]) - now)
end
if wait > 0 then return ms(wait) end
tat = now + tonumber(ARGV[2])
redis.call('SET', KEYS[1], ms(tat))
keep(KEYS[1], tat)
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], ms(now + tonumber(ARGV[4])), ARGV[5])
  keepLog()
end
return '0'
`;

export const GCRA_SHA = createHash('sha1').update(GCRA_SCRIPT).digest('hex');
