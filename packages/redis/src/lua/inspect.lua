-- inspect: the live tickets of a conversation, oldest first.
-- Arguments: the conversation's hash, conversation id
-- Reply: { fence1, expires in ms 1, fence2, expires in ms 2, ... }
local key, conversation = ...
local now = clock()

local head, tail = load(key)
local head_fence, head_inbox, popped, _
head, tail, head_fence, _, head_inbox, popped = front(key, head, tail, now)
announce_new_head(popped, head_fence, head_inbox, conversation)

local reply = {}
for position = head, tail - 1 do
  local value = redis.call('HGET', key, 'q' .. int(position))
  if value then
    local fence, expires = parse(value)
    if expires > now then
      table.insert(reply, num(fence))
      table.insert(reply, expires - now)
    end
  end
end
return reply
