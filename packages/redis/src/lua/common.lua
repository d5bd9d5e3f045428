-- Shared by every lockstore script (prepended to each one when it is registered).
--
-- A conversation's queue is two keys with one hash tag, so that a script can touch both on Cluster:
--   queue   LIST of ticket fences, oldest first. Removing a ticket from the middle only deletes its
--           hash field; its list entry is dropped when it reaches the front. Every operation is so
--           O(1) amortized, whatever the queue length.
--   tickets HASH fence -> "<expiry ms> <owner>", expiry on Redis's clock, owner = the process inbox
--           that is told when the ticket becomes the head.
-- Invariant after every script: the first list entry is the live head, or the list is empty.

-- Redis's clock, never a client's: milliseconds, and microseconds (for fences).
local function clock()
  local t = redis.call('TIME')
  local seconds, micros = tonumber(t[1]), tonumber(t[2])
  return seconds * 1000 + math.floor(micros / 1000), seconds * 1000000 + micros
end

local function parse(value)
  local space = string.find(value, ' ', 1, true)
  return tonumber(string.sub(value, 1, space - 1)), string.sub(value, space + 1)
end

-- Pops released and expired tickets off the front. Returns the live head's fence, expiry and owner
-- (nil when the queue is empty), and how many entries were popped.
local function front(queue, tickets, now)
  local popped = 0
  while true do
    local head = redis.call('LINDEX', queue, 0)
    if not head then
      return nil, nil, nil, popped
    end
    local value = redis.call('HGET', tickets, head)
    if value then
      local expires, owner = parse(value)
      if expires > now then
        return head, expires, owner, popped
      end
      redis.call('HDEL', tickets, head)
    end
    redis.call('LPOP', queue)
    popped = popped + 1
  end
end

-- Tells the owner's process that `fence` now holds the lock of `conversation`.
local function announce(inbox_prefix, owner, fence, conversation)
  redis.call('PUBLISH', inbox_prefix .. owner, fence .. ':' .. conversation)
end

-- After front() popped something, the head is new and nobody has told its owner yet.
local function announce_new_head(popped, head, owner, inbox_prefix, conversation)
  if popped > 0 and head then
    announce(inbox_prefix, owner, head, conversation)
  end
end

-- An empty queue leaves no key behind.
local function drop_if_empty(queue, tickets)
  if redis.call('LLEN', queue) == 0 then
    redis.call('DEL', queue, tickets)
    return true
  end
  return false
end

-- Keeps both keys alive at least until `expires` (plus a second), so that a crashed process leaves
-- nothing behind for ever, and a live ticket never loses its queue.
local function keep_until(queue, tickets, expires, now)
  local ttl = expires - now + 1000
  for _, key in ipairs({ queue, tickets }) do
    if redis.call('PTTL', key) < ttl then
      redis.call('PEXPIRE', key, ttl)
    end
  end
end
