-- delete: removes a conversation's queue whatever it holds, keeping the last fence so that fences
-- keep rising. Holders and waiters learn it when they next renew.
-- Arguments: the conversation's hash, fence retention ms
-- Reply: 1 when there was a ticket in the queue, else 0
local key, retention = ...
local state = load(key)
redis.call('DEL', key)
if state.last then
  redis.call('HSET', key, 'last', state.last)
  redis.call('PEXPIRE', key, retention)
end
if state.head < state.tail then
  return 1
end
return 0
