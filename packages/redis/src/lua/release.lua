-- release: removes a ticket wherever it is; when it held the lock, grants the lock to the next live
-- ticket and pushes the grant to that ticket's process in the same step (hand-off in one round trip).
-- KEYS[1] queue list, KEYS[2] tickets hash
-- ARGV[1] fence, ARGV[2] inbox channel prefix, ARGV[3] conversation id
-- Reply: 1 when the ticket was in the queue, 0 when it was already gone
local queue, tickets = KEYS[1], KEYS[2]
local fence, inbox_prefix, conversation = ARGV[1], ARGV[2], ARGV[3]
local now = clock()

local head, _, head_owner, popped = front(queue, tickets, now)
local removed = redis.call('HDEL', tickets, fence)
if removed == 1 and head == fence then
  redis.call('LPOP', queue)
  head, _, head_owner, popped = front(queue, tickets, now)
  popped = popped + 1
end
announce_new_head(popped, head, head_owner, inbox_prefix, conversation)
drop_if_empty(queue, tickets)
return removed
