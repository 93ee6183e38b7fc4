import { createHash } from 'node:crypto';

/**
 * Every step of the outbox, atomically, in one Lua script. All keys share the `{name}` hash tag (one Cluster slot)
 * and are declared:
 *   KEYS[1] stream      the due broadcasts (consumer group ARGV[2]); fields i = id, r = request JSON
 *   KEYS[2] records     hash id → record JSON (state, times, batch, result; `tp`: the enqueuer's W3C traceparent until it finishes)
 *   KEYS[3] scheduled   zset id → sendAt
 *   KEYS[4] later       hash id → request JSON of a scheduled broadcast
 *   KEYS[5] batches     hash batch id → { ids, sids, rnd, first, exp, calls, owner }
 *   KEYS[6] gc          stream of finished ids, entry id = finish time: the clean-up index for retention
 *   KEYS[7] idem        hash idempotency key → id
 *   KEYS[8] wake        a tiny stream idle deliverers block on (a scheduled broadcast was added)
 *   KEYS[9] deliverers  zset consumer → last heartbeat (Redis time)
 * ARGV[1] op, ARGV[2] group, ARGV[3] now (the outbox clock, ms), ARGV[4] channel for final states,
 * ARGV[5] retention ms, ARGV[6…] the op's arguments (see the store). Times in records are the outbox clock;
 * liveness (deliverers) is Redis's clock, and leases are Redis's own idle times.
 */
export const OUTBOX_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local Q, ST, SCHED, LATER, BATCHES, GC, IDEM, WAKE, LIVE = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local op, G, now, CH, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])

local function get(id)
  local raw = redis.call('HGET', ST, id)
  if raw then return cjson.decode(raw) end
  return nil
end
local function put(id, rec) redis.call('HSET', ST, id, cjson.encode(rec)) end
local finished, expired = {}, {}
-- the clean-up index: a stream whose entry ids are finish times (outbox clock), kept increasing
local gcLast
local function gcAdd(id)
  if gcLast == nil then
    local last = redis.call('XREVRANGE', GC, '+', '-', 'COUNT', 1)[1]
    if last then
      local ms, seq = string.match(last[1], '(%d+)-(%d+)')
      gcLast = { tonumber(ms), tonumber(seq) }
    else
      gcLast = { 0, -1 }
    end
  end
  local ms = math.floor(now)
  if ms > gcLast[1] then gcLast = { ms, 0 } else gcLast = { gcLast[1], gcLast[2] + 1 } end
  redis.call('XADD', GC, string.format('%d-%d', gcLast[1], gcLast[2]), 'i', id)
end
local function finish(id, rec, state)
  rec.s = state
  rec.fin = now
  rec.b = nil
  rec.al = nil
  rec.tp = nil
  if state ~= 'uncertain' then rec.bt = nil end
  put(id, rec)
  gcAdd(id)
  finished[state] = finished[state] or {}
  table.insert(finished[state], id)
  if state == 'expired' then table.insert(expired, id) end
end
local function publish()
  for state, ids in pairs(finished) do redis.call('PUBLISH', CH, state .. ' ' .. table.concat(ids, ' ')) end
end
local function drop(sid)
  redis.call('XACK', Q, G, sid)
  redis.call('XDEL', Q, sid)
end
local function live(rec) return rec ~= nil and rec.s == 'queued' and now < rec.exp end
local function final(rec) return rec.s == 'delivered' or rec.s == 'failed' or rec.s == 'expired' or rec.s == 'uncertain' end
-- a stream entry that will never be sent: expire its broadcast if it was still waiting
local function settleDead(id, rec)
  if rec ~= nil and (rec.s == 'queued' or rec.s == 'scheduled') then finish(id, rec, 'expired') end
end
local function field(list, name)
  for i = 1, #list, 2 do if list[i] == name then return list[i + 1] end end
  return nil
end
-- the group's last-delivered id; creates the group (from the start of the stream) when missing
local function lastDelivered()
  if redis.call('EXISTS', Q) == 1 then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', Q)) do
      if field(g, 'name') == G then return field(g, 'last-delivered-id') end
    end
  end
  redis.call('XGROUP', 'CREATE', Q, G, '0', 'MKSTREAM')
  return '0-0'
end
local function pendingOf(consumer)
  local sids = {}
  for _, p in ipairs(redis.call('XPENDING', Q, G, '-', '+', 10000, consumer)) do table.insert(sids, p[1]) end
  return sids
end
-- XCLAIM to me in chunks; extra = trailing options
local function claim(me, sids, extra)
  for i = 1, #sids, 200 do
    local args = { 'XCLAIM', Q, G, me, '0' }
    for j = i, math.min(i + 199, #sids) do table.insert(args, sids[j]) end
    for _, x in ipairs(extra) do table.insert(args, x) end
    redis.call(unpack(args))
  end
end
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

if op == 'enqueue' then
  local id, req, exp, sendAt, bytes, key, tp = ARGV[6], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11], ARGV[12]
  if key ~= '' then
    local prev = redis.call('HGET', IDEM, key)
    if prev and redis.call('HEXISTS', ST, prev) == 1 then return { prev, 0 } end
    redis.call('HSET', IDEM, key, id)
  end
  local rec = { s = 'queued', enq = now, exp = exp, b = bytes }
  if key ~= '' then rec.k = key end
  if tp and tp ~= '' then rec.tp = tp end
  if sendAt then
    rec.s = 'scheduled'
    rec.at = sendAt
    redis.call('HSET', LATER, id, req)
    redis.call('ZADD', SCHED, sendAt, id)
    redis.call('XADD', WAKE, 'MAXLEN', '8', '*', 'w', '1')
  else
    redis.call('XADD', Q, '*', 'i', id, 'r', req)
  end
  put(id, rec)
  return { id, 1 }
end

if op == 'status' then
  local id = ARGV[6]
  local rec = get(id)
  if rec == nil then return false end
  if (rec.s == 'queued' or rec.s == 'scheduled') and now >= rec.exp then
    if rec.s == 'scheduled' then
      redis.call('ZREM', SCHED, id)
      redis.call('HDEL', LATER, id)
    end
    finish(id, rec, 'expired')
    publish()
  end
  return { cjson.encode(rec), expired }
end

if op == 'peek' then
  local me, budget, limit, coalesce = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9] == '1'
  local last = lastDelivered()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', SCHED, '-inf', now, 'LIMIT', 0, 100)) do
    local rec, req = get(id), redis.call('HGET', LATER, id)
    redis.call('ZREM', SCHED, id)
    redis.call('HDEL', LATER, id)
    if rec ~= nil and rec.s == 'scheduled' then
      if now >= rec.exp or not req then
        finish(id, rec, 'expired')
      else
        rec.s = 'queued'
        put(id, rec)
        redis.call('XADD', Q, '*', 'i', id, 'r', req)
      end
    end
  end
  -- the head: entries after the group's last-delivered id, read in chunks until a call's worth is seen
  local out, dead, bytes, scanned, cursor, stop = {}, 0, 0, 0, '(' .. last, false
  while not stop do
    local chunk = redis.call('XRANGE', Q, cursor, '+', 'COUNT', 32)
    if #chunk == 0 then break end
    for _, e in ipairs(chunk) do
      local sid, f = e[1], e[2]
      local id = field(f, 'i')
      local rec = get(id)
      scanned = scanned + 1
      cursor = '(' .. sid
      if live(rec) then
        table.insert(out, { sid, id, field(f, 'r'), rec.al and '1' or '0', rec.tp or '', rec.at or rec.enq })
        bytes = bytes + (rec.b or 0)
        if not coalesce or bytes > budget + #out then stop = true end
      elseif #out == 0 then
        dead = dead + 1
        settleDead(id, rec)
      else
        table.insert(out, { sid, id, '', '0' })
      end
      if stop or scanned >= limit then stop = true break end
    end
  end
  if dead > 0 then
    local read = redis.call('XREADGROUP', 'GROUP', G, me, 'COUNT', dead, 'STREAMS', Q, '>')
    for _, e in ipairs(read[1][2]) do drop(e[1]) end
  end
  local nextDue = redis.call('ZRANGE', SCHED, 0, 0, 'WITHSCORES')[2] or ''
  local lastQ, lastW = '', ''
  if #out == 0 then
    local tail = redis.call('XREVRANGE', Q, '+', '-', 'COUNT', 1)
    lastQ = tail[1] and tail[1][1] or '0-0'
    local wake = redis.call('XREVRANGE', WAKE, '+', '-', 'COUNT', 1)
    lastW = wake[1] and wake[1][1] or '0-0'
  end
  publish()
  return { out, nextDue, lastQ, lastW, scanned >= limit and #out == 0 and 1 or 0, expired }
end

if op == 'take' then
  local me, bid, rnd = ARGV[6], ARGV[7], tonumber(ARGV[8])
  local held, head = cjson.decode(ARGV[9]), cjson.decode(ARGV[10])
  -- held entries must still be pending with this deliverer, and alive
  local lost = {}
  for _, h in ipairs(held) do
    local rec = get(h[2])
    if #redis.call('XPENDING', Q, G, h[1], h[1], 1, me) == 0 then
      table.insert(lost, h[1])
    elseif not live(rec) then
      table.insert(lost, h[1])
      settleDead(h[2], rec)
      drop(h[1])
    end
  end
  if #lost > 0 then
    publish()
    return { 'stale', lost, 0, 0, expired }
  end
  -- the head must still be exactly what was peeked
  if #head > 0 then
    local current = redis.call('XRANGE', Q, '(' .. lastDelivered(), '+', 'COUNT', #head)
    if #current ~= #head then return { 'stale', {}, 0, 0, {} } end
    for i, e in ipairs(current) do
      local h = head[i]
      if e[1] ~= h[1] or (h[3] == 1) ~= live(get(h[2])) then return { 'stale', {}, 0, 0, {} } end
    end
    redis.call('XREADGROUP', 'GROUP', G, me, 'COUNT', #head, 'STREAMS', Q, '>')
  end
  local ids, sids, exp = {}, {}, nil
  local function member(sid, id)
    local rec = get(id)
    table.insert(ids, id)
    table.insert(sids, sid)
    exp = exp and math.min(exp, rec.exp) or rec.exp
  end
  for _, h in ipairs(held) do member(h[1], h[2]) end
  for _, h in ipairs(head) do
    if h[3] == 1 then member(h[1], h[2]) else settleDead(h[2], get(h[2])) drop(h[1]) end
  end
  if #ids > 0 then
    redis.call('HSET', BATCHES, bid, cjson.encode({ ids = ids, sids = sids, rnd = rnd, first = now, exp = exp, calls = 1, owner = me }))
    for _, id in ipairs(ids) do
      local rec = get(id)
      rec.s = 'sending'
      rec.bt = bid
      rec.rnd = rnd
      rec.bs = #ids
      rec.att = 1
      put(id, rec)
    end
  end
  publish()
  return { 'ok', {}, now, exp or 0, expired }
end

if op == 'resend' then
  local me, bid, windowMs = ARGV[6], ARGV[7], tonumber(ARGV[8])
  local raw = redis.call('HGET', BATCHES, bid)
  if not raw then return { 'gone' } end
  local b = cjson.decode(raw)
  if b.owner ~= me then return { 'lost' } end
  local reason
  if now >= b.first + windowMs then reason = 'dedup-window' elseif now >= b.exp then reason = 'expired' end
  local reqs = {}
  if not reason then
    for i, sid in ipairs(b.sids) do
      local e = redis.call('XRANGE', Q, sid, sid)
      if #e == 0 then reason = 'lost-entry' break end
      reqs[i] = field(e[1][2], 'r')
    end
  end
  if reason then
    for i, id in ipairs(b.ids) do
      local rec = get(id)
      if rec ~= nil and rec.s == 'sending' and rec.bt == bid then
        rec.rsn = reason
        finish(id, rec, 'uncertain')
      end
      drop(b.sids[i])
    end
    redis.call('HDEL', BATCHES, bid)
    publish()
    return { 'uncertain', reason, b.ids }
  end
  b.calls = b.calls + 1
  redis.call('HSET', BATCHES, bid, cjson.encode(b))
  local tps = {}
  for i, id in ipairs(b.ids) do
    local rec = get(id)
    tps[i] = rec ~= nil and rec.tp or ''
    if rec ~= nil then
      rec.att = b.calls
      put(id, rec)
    end
  end
  return { 'ok', b.rnd, b.first, b.exp, b.calls, b.ids, b.sids, reqs, tps }
end

if op == 'delivered' then
  local bid, d = ARGV[6], cjson.decode(ARGV[7])
  local ids = {}
  for i, id in ipairs(d.ids) do
    local rec = get(id)
    if rec ~= nil and rec.bt == bid and (rec.s == 'sending' or rec.s == 'uncertain') then
      rec.seq = d.seq
      rec.rnd = d.rnd
      rec.rsn = nil
      finish(id, rec, 'delivered')
      table.insert(ids, id)
      drop(d.sids[i])
    elseif rec == nil or final(rec) then
      drop(d.sids[i])
    end
  end
  redis.call('HDEL', BATCHES, bid)
  publish()
  return ids
end

if op == 'refused' then
  local bid, me, mode, firstOnly = ARGV[6], ARGV[7], ARGV[8], ARGV[9] == '1'
  local raw = redis.call('HGET', BATCHES, bid)
  if not raw then return { 'gone' } end
  local b = cjson.decode(raw)
  if b.owner ~= me then return { 'lost' } end
  if firstOnly and b.calls > 1 then return { 'not-first' } end
  redis.call('HDEL', BATCHES, bid)
  if mode == 'poison' and #b.ids == 1 then
    local rec = get(b.ids[1])
    if rec ~= nil then
      rec.err = cjson.decode(ARGV[10])
      finish(b.ids[1], rec, 'failed')
    end
    drop(b.sids[1])
    publish()
    return { 'failed' }
  end
  local alone = {}
  for i, id in ipairs(b.ids) do
    local rec = get(id)
    if rec ~= nil then
      rec.s = 'queued'
      rec.bt = nil
      rec.rnd = nil
      rec.bs = nil
      if mode == 'poison' then rec.al = 1 end
      put(id, rec)
    end
    alone[i] = (rec ~= nil and rec.al) and '1' or '0'
  end
  return { 'held', alone }
end

-- renews the lease on the entries this deliverer knows it holds (an entry it holds without knowing, e.g. after a
-- command that timed out on its side but ran, goes idle and is reclaimed like a dead deliverer's)
if op == 'heartbeat' then
  local me, known = ARGV[6], cjson.decode(ARGV[7])
  lastDelivered()
  redis.call('ZADD', LIVE, redisNow(), me)
  local mine = {}
  for _, sid in ipairs(known) do
    if #redis.call('XPENDING', Q, G, sid, sid, 1, me) == 1 then table.insert(mine, sid) end
  end
  claim(me, mine, { 'JUSTID' })
  return mine
end

if op == 'release' then
  local me, idle = ARGV[6], ARGV[7]
  lastDelivered()
  local sids = pendingOf(me)
  claim(me, sids, { 'IDLE', idle, 'JUSTID' })
  redis.call('ZREM', LIVE, me)
  return #sids
end

if op == 'reclaim' then
  local me, lease, cursor = ARGV[6], ARGV[7], ARGV[8]
  lastDelivered()
  local res = redis.call('XAUTOCLAIM', Q, G, me, lease, cursor, 'COUNT', 100)
  local batches, held, seen = {}, {}, {}
  for _, e in ipairs(res[2]) do
    local sid, f = e[1], e[2]
    local id = type(f) == 'table' and field(f, 'i') or nil
    local rec = id and get(id) or nil
    if rec == nil or final(rec) then
      drop(sid)
    elseif rec.s == 'sending' then
      local bid = rec.bt
      if not seen[bid] then
        local raw = redis.call('HGET', BATCHES, bid)
        if raw then
          seen[bid] = true
          local b = cjson.decode(raw)
          table.insert(batches, { bid, b.owner, b.ids, b.sids })
          b.owner = me
          redis.call('HSET', BATCHES, bid, cjson.encode(b))
          claim(me, b.sids, { 'JUSTID' })
        else
          rec.rsn = 'lost-batch'
          finish(id, rec, 'uncertain')
          drop(sid)
        end
      end
    elseif live(rec) then
      table.insert(held, { sid, id, field(f, 'r'), rec.al and '1' or '0', rec.tp or '', rec.at or rec.enq })
    else
      settleDead(id, rec)
      drop(sid)
    end
  end
  publish()
  return { res[1], batches, held, expired }
end

-- deletes the records of broadcasts finished more than the retention ago (only finished ones are in the index)
if op == 'gc' then
  local entries = redis.call('XRANGE', GC, '-', string.format('%d', math.floor(now - retention)), 'COUNT', tonumber(ARGV[6]))
  local gids = {}
  for _, e in ipairs(entries) do
    local id = field(e[2], 'i')
    local rec = get(id)
    if rec ~= nil and final(rec) and (rec.fin or 0) <= now - retention then
      if rec.k and redis.call('HGET', IDEM, rec.k) == id then redis.call('HDEL', IDEM, rec.k) end
      redis.call('HDEL', ST, id)
    end
    table.insert(gids, e[1])
  end
  for i = 1, #gids, 200 do redis.call('XDEL', GC, unpack(gids, i, math.min(i + 199, #gids))) end
  local n = #entries
  -- deliverers gone for a while and holding nothing leave the group
  if redis.call('EXISTS', Q) == 1 then
    lastDelivered()
    for _, c in ipairs(redis.call('ZRANGEBYSCORE', LIVE, '-inf', redisNow() - tonumber(ARGV[7]))) do
      if #redis.call('XPENDING', Q, G, '-', '+', 1, c) == 0 then
        redis.call('XGROUP', 'DELCONSUMER', Q, G, c)
        redis.call('ZREM', LIVE, c)
      end
    end
  end
  return n
end

if op == 'stats' then
  local len, pending, oldest = redis.call('XLEN', Q), 0, ''
  if len > 0 then
    lastDelivered()
    pending = redis.call('XPENDING', Q, G)[1]
    local first = redis.call('XRANGE', Q, '-', '+', 'COUNT', 1)[1]
    local rec = first and get(field(first[2], 'i')) or nil
    if rec ~= nil then oldest = rec.at or rec.enq end
  end
  local deliverers = redis.call('ZCOUNT', LIVE, redisNow() - tonumber(ARGV[6]), '+inf')
  return { len, pending, redis.call('ZCARD', SCHED), oldest, deliverers }
end

return redis.error_reply('tim-broadcast outbox: unknown op ' .. tostring(op))
`;

export const OUTBOX_SHA = createHash('sha1').update(OUTBOX_SCRIPT).digest('hex');
