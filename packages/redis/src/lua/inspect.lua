-- inspect: the live tickets of a conversation, oldest first.
-- KEYS[1] queue list, KEYS[2] tickets hash
-- ARGV[1] inbox channel prefix, ARGV[2] conversation id
-- Reply: { fence1, expires in ms 1, fence2, expires in ms 2, ... }
local queue, tickets = KEYS[1], KEYS[2]
local now = clock()

local head, _, head_owner, popped = front(queue, tickets, now)
announce_new_head(popped, head, head_owner, ARGV[1], ARGV[2])
drop_if_empty(queue, tickets)

local reply = {}
for _, fence in ipairs(redis.call('LRANGE', queue, 0, -1)) do
  local value = redis.call('HGET', tickets, fence)
  if value then
    local expires = parse(value)
    if expires > now then
      table.insert(reply, tonumber(fence))
      table.insert(reply, expires - now)
    end
  end
end
return reply
