-- inspect: the live tickets of a conversation, oldest first.
-- Arguments: the conversation's hash, conversation id
-- Reply: { fence1, expires in ms 1, fence2, expires in ms 2, ... }
local key, conversation = ...
local now = clock()

local state = load(key)
local head, _, head_inbox, popped = front(key, state, now)
announce_new_head(popped, head, head_inbox, conversation)

local reply = {}
for position = state.head, state.tail - 1 do
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
