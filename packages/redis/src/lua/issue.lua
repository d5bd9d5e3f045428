-- issue: appends a ticket to a conversation's queue; grants it at once when nobody holds the lock.
-- Arguments: the conversation's hash, lifetime ms, this process's inbox channel, conversation id (for
-- announcements)
-- Reply: 'fence 1 expires-in-ms' when granted, 'fence 0 expires-in-ms head-expires-in-ms' when not
--
-- The fence is the larger of last + 1 and Redis's clock in microseconds, so fences keep rising even
-- after the hash expired or Redis lost its data (as long as Redis's clock does not step back).
local key, lifetime, inbox, conversation = ...
local lifetime_ms = num(lifetime)
local now, now_us = clock()

local head, tail, keep_text, last = load(key, 'until', 'last')
local head_fence, head_expires, head_inbox, popped
head, tail, head_fence, head_expires, head_inbox, popped = front(key, head, tail, now)
announce_new_head(popped, head_fence, head_inbox, conversation)

local fence_number = math.max(last and last + 1 or 0, now_us)
local fence = int(fence_number)
-- An empty queue starts again at position 0, the usual case, which so needs no formatting.
local position, next_position = '0', '1'
if tail > 0 then
  position, next_position = int(tail), int(tail + 1)
end
redis.call('HSET', key, 'last', fence, 'tail', next_position, 'q' .. position, entry(fence, now + lifetime_ms, inbox), 's' .. fence, position)
keep_until(key, keep_text, now + lifetime_ms, now)

if head_fence then
  return fence .. ' 0 ' .. lifetime .. ' ' .. int(head_expires - now)
end
return fence .. ' 1 ' .. lifetime
