-- refresh: reports a ticket's state, extending its expiry first when asked (renewal).
-- KEYS[1] queue list, KEYS[2] tickets hash
-- ARGV[1] fence, ARGV[2] new lifetime ms or '' to only read, ARGV[3] inbox channel prefix,
-- ARGV[4] conversation id
-- Reply: { 0 } gone | { 1, expires in ms } head | { 2, expires in ms, head expires in ms } waiting
local queue, tickets = KEYS[1], KEYS[2]
local fence, inbox_prefix, conversation = ARGV[1], ARGV[3], ARGV[4]
local now = clock()

local head, head_expires, head_owner, popped = front(queue, tickets, now)
announce_new_head(popped, head, head_owner, inbox_prefix, conversation)

local value = redis.call('HGET', tickets, fence)
if not value then
  return { 0 }
end
local expires, owner = parse(value)
if expires <= now then
  -- An expired ticket behind the head: its owner has noticed, so drop it now.
  redis.call('HDEL', tickets, fence)
  return { 0 }
end
if ARGV[2] ~= '' then
  expires = now + tonumber(ARGV[2])
  redis.call('HSET', tickets, fence, expires .. ' ' .. owner)
  keep_until(queue, tickets, expires, now)
end
if head == fence then
  return { 1, expires - now }
end
return { 2, expires - now, head_expires - now }
