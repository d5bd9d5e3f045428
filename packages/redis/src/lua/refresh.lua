-- refresh: reports a ticket's state, extending its expiry first when asked (renewal).
-- Arguments: the conversation's hash, fence, new lifetime ms or '' to only read, conversation id
-- Reply: '0' gone | '1 expires-in-ms' head | '2 expires-in-ms head-expires-in-ms' waiting
local key, fence, lifetime, conversation = ...
local now = clock()

local head, tail, keep_text, position = load(key, 'until', 's' .. fence)
local head_fence, head_expires, head_inbox, popped
head, tail, head_fence, head_expires, head_inbox, popped = front(key, head, tail, now)
announce_new_head(popped, head_fence, head_inbox, conversation)

local value = position and redis.call('HGET', key, 'q' .. position)
if not value then
  return '0'
end
local _, expires, inbox = parse(value)
if expires <= now then
  -- An expired ticket behind the head: its owner has noticed, so drop it now.
  redis.call('HDEL', key, 'q' .. position, 's' .. fence)
  return '0'
end
if lifetime ~= '' then
  expires = now + num(lifetime)
  redis.call('HSET', key, 'q' .. position, entry(fence, expires, inbox))
  keep_until(key, keep_text, expires, now)
end
if head_fence == fence then
  return '1 ' .. int(expires - now)
end
return '2 ' .. int(expires - now) .. ' ' .. int(head_expires - now)
