-- delete: removes a conversation's queue whatever it holds, keeping the last fence so that fences
-- keep rising. Holders and waiters learn it when they next renew.
-- Arguments: the conversation's hash
-- Reply: 1 when there was a ticket in the queue, else 0
local key = ...
local head, tail, last = load(key, 'last')
redis.call('DEL', key)
if last then
  redis.call('HSET', key, 'last', last)
  redis.call('PEXPIRE', key, int(retention))
end
if head < tail then
  return 1
end
return 0
