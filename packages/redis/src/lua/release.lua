-- release: removes a ticket wherever it is; when it held the lock, grants the lock to the next live
-- ticket and pushes the grant to that ticket's process in the same step (hand-off in one round trip).
-- KEYS[1] the conversation's hash
-- ARGV[1] fence, ARGV[2] conversation id
-- Reply: 1 when the ticket was in the queue, 0 when it was already gone
local key = KEYS[1]
local fence, conversation = ARGV[1], ARGV[2]

local state = load(key, fence)
if not state.position then
  return 0
end
redis.call('HDEL', key, 'q' .. state.position, 's' .. fence)
local popped = 0
if state.position == state.head then
  -- The holder left: move past it. When nobody waits, that is all, and needs no clock.
  state.head = state.head + 1
  popped = 1
  if state.head == state.tail then
    redis.call('HSET', key, 'head', state.head)
    return 1
  end
end
-- Someone may hold the lock now: the next live ticket (found past released and expired ones), whose
-- process is told. A waiter leaving from the middle changes nothing unless the head had expired.
local head, _, head_inbox, more = front(key, state, clock())
if popped == 1 and more == 0 then
  redis.call('HSET', key, 'head', state.head)
end
announce_new_head(popped + more, head, head_inbox, conversation)
return 1
