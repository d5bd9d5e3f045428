-- refresh: reports a ticket's state, extending its expiry first when asked (renewal).
-- Arguments: the conversation's hash, fence, new lifetime ms or '' to only read, conversation id,
-- fence retention ms
-- Reply: '0' gone | '1 expires-in-ms' head | '2 expires-in-ms head-expires-in-ms' waiting
local key, fence, lifetime, conversation, retention = ...
local now = clock()

local state = load(key, fence)
local head, head_expires, head_inbox, popped = front(key, state, now)
announce_new_head(popped, head, head_inbox, conversation)

local value = state.position and redis.call('HGET', key, 'q' .. state.position_text)
if not value then
  return '0'
end
local _, expires, inbox = parse(value)
if expires <= now then
  -- An expired ticket behind the head: its owner has noticed, so drop it now.
  redis.call('HDEL', key, 'q' .. state.position_text, 's' .. fence)
  return '0'
end
if lifetime ~= '' then
  expires = now + num(lifetime)
  redis.call('HSET', key, 'q' .. state.position_text, entry(fence, expires, inbox))
  keep_until(key, state, expires, now, num(retention))
end
if head == fence then
  return '1 ' .. int(expires - now)
end
return '2 ' .. int(expires - now) .. ' ' .. int(head_expires - now)
