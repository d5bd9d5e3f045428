-- issue: appends a ticket to a conversation's queue; grants it at once when nobody holds the lock.
-- KEYS[1] queue list, KEYS[2] tickets hash, KEYS[3] fence counter (all one hash tag)
-- ARGV[1] lifetime ms, ARGV[2] owner inbox id, ARGV[3] inbox channel prefix,
-- ARGV[4] conversation id (for announcements), ARGV[5] how long the fence counter outlives use, ms
-- Reply: { fence, granted (1/0), expires in ms, head expires in ms (-1 when granted) }
--
-- The fence is the larger of last + 1 and Redis's clock in microseconds, so fences keep rising even
-- after the counter key expired or Redis lost its data (as long as Redis's clock does not step back).
local queue, tickets, counter = KEYS[1], KEYS[2], KEYS[3]
local lifetime = tonumber(ARGV[1])
local owner, inbox_prefix, conversation = ARGV[2], ARGV[3], ARGV[4]

local now, now_us = clock()

local head, head_expires, head_owner, popped = front(queue, tickets, now)
announce_new_head(popped, head, head_owner, inbox_prefix, conversation)

local fence = math.max(tonumber(redis.call('GET', counter) or '0') + 1, now_us)
local id = string.format('%.0f', fence)
redis.call('SET', counter, id, 'PX', ARGV[5])
redis.call('RPUSH', queue, id)
redis.call('HSET', tickets, id, (now + lifetime) .. ' ' .. owner)
keep_until(queue, tickets, now + lifetime, now)

if head then
  return { fence, 0, lifetime, head_expires - now }
end
return { fence, 1, lifetime, -1 }
