-- release: removes a ticket wherever it is; when it held the lock, grants the lock to the next live
-- ticket and pushes the grant to that ticket's process in the same step (hand-off in one round trip).
-- Arguments: the conversation's hash, fence, conversation id
-- Reply: 1 when the ticket was in the queue, 0 when it was already gone
local key, fence, conversation = ...

local head, tail, position_text = load(key, 's' .. fence)
if not position_text then
  return 0
end
local position_field, fence_field = 'q' .. position_text, 's' .. fence
local held = num(position_text) == head
if held and head + 1 == tail then
  -- The holder left and nobody waits: the queue is empty. One call, and no clock.
  redis.call('HDEL', key, position_field, fence_field, 'head', 'tail')
  return 1
end
redis.call('HDEL', key, position_field, fence_field)
-- Someone may hold the lock now: the next live ticket (found past released and expired ones), whose
-- process is told. A waiter leaving from the middle changes nothing unless the head had expired.
local popped = 0
if held then
  head = head + 1
  popped = 1
end
local head_fence, head_inbox, more, _
head, tail, head_fence, _, head_inbox, more = front(key, head, tail, clock())
if popped == 1 and more == 0 then
  save_head(key, head, tail)
end
announce_new_head(popped + more, head_fence, head_inbox, conversation)
return 1
