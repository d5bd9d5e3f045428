-- Shared by every lockstore script (prepended to each one when it is registered).
--
-- A conversation is ONE hash, so that a lock cycle creates no key and sets no expiry once the
-- conversation has been seen (creating keys with a TTL is what costs most inside a script):
--   last        the last fence issued; kept after the queue empties, so fences keep rising
--   head, tail  queue positions: entries head .. tail-1 are the queue, oldest first; both are
--               dropped when the queue empties (absent means 0), so positions start again at 0
--   until       until when the key is kept (its expiry, ms on Redis's clock)
--   q<pos>      "<fence> <expiry ms> <inbox>" of the ticket at that position; expiry is on Redis's
--               clock, inbox is where its process is told when the ticket becomes the head
--   s<fence>    the position of a ticket, to find it by fence
-- A ticket removed from the middle loses its fields at once; its position is skipped when it
-- reaches the front. Every operation is so O(1) amortized, whatever the queue length.
-- Invariant after every script: the entry at `head` is the live head, or the queue is empty.
--
-- Replies are text, numbers separated by spaces, where they would be tables: Redis checks every
-- table a script returns for the fields of its special replies, which costs as much as a call.
--
-- Numbers are turned into text with int() and only where needed: Lua's own conversion of a number
-- (concatenation, or a number passed to redis.call) goes through floating-point formatting, which
-- costs about twice as much.

-- An integer as text (the integers here, fences included, are below 2^53).
local function int(n)
  return string.format('%d', n)
end

-- The number a text holds (only for text known to hold one): arithmetic parses it once, where
-- tonumber() parses it twice, once to check it and once to convert it.
local function num(text)
  return text + 0
end

-- Redis's clock, never a client's: milliseconds, and microseconds (for fences). It is read once per
-- command, so that the operations of one batch share one instant, as they share one atomic step.
local clock_ms, clock_us
local function clock()
  if not clock_ms then
    local t = redis.call('TIME')
    local seconds, micros = num(t[1]), num(t[2])
    clock_ms, clock_us = seconds * 1000 + math.floor(micros / 1000), seconds * 1000000 + micros
  end
  return clock_ms, clock_us
end

-- How long a conversation's hash is kept after its last use (ms), the same for every operation of a
-- command, so that a batch sends it once.
local retention

-- Starts a command, given its fence retention (text): a function library keeps its variables from
-- one call to the next, so the clock read by the last command is forgotten.
local function begin_command(retention_text)
  clock_ms, clock_us = nil, nil
  retention = num(retention_text)
end

-- "<fence> <expiry> <inbox>" -> fence (string), expiry (number), inbox
local function parse(value)
  local first = string.find(value, ' ', 1, true)
  local second = string.find(value, ' ', first + 1, true)
  return string.sub(value, 1, first - 1), num(string.sub(value, first + 1, second - 1)), string.sub(value, second + 1)
end

local function entry(fence, expires, inbox)
  return fence .. ' ' .. int(expires) .. ' ' .. inbox
end

-- Reads, in one call, the queue positions (numbers) and the given fields (as text, or nil). Each
-- field read costs, so callers name only what they need.
local function load(key, ...)
  local v = redis.call('HMGET', key, 'head', 'tail', ...)
  return v[1] and num(v[1]) or 0, v[2] and num(v[2]) or 0, v[3] or nil, v[4] or nil
end

-- Stores a queue's new head and returns the positions. An empty queue keeps no positions: the next
-- ticket takes 0.
local function save_head(key, head, tail)
  if head == tail then
    redis.call('HDEL', key, 'head', 'tail')
    return 0, 0
  end
  redis.call('HSET', key, 'head', int(head))
  return head, tail
end

-- Pops released and expired tickets off the front of a queue. Returns the new positions, the live
-- head's fence, expiry and inbox (nil when the queue is empty), and how many entries were popped.
local function front(key, head, tail, now)
  local popped = 0
  while head < tail do
    local value = redis.call('HGET', key, 'q' .. int(head))
    if value then
      local fence, expires, owner = parse(value)
      if expires > now then
        if popped > 0 then
          head, tail = save_head(key, head, tail)
        end
        return head, tail, fence, expires, owner, popped
      end
      redis.call('HDEL', key, 'q' .. int(head), 's' .. fence)
    end
    head = head + 1
    popped = popped + 1
  end
  if popped > 0 then
    head, tail = save_head(key, head, tail)
  end
  return head, tail, nil, nil, nil, popped
end

-- After front() popped something, the head is new and nobody has told its process yet: tell it that
-- `fence` now holds the lock of `conversation`. `inbox` is `P<channel>` for plain pub/sub, or
-- `S<channel>` for sharded pub/sub on Cluster (a channel of this key's slot).
local function announce_new_head(popped, fence, inbox, conversation)
  if popped > 0 and fence then
    local command = string.sub(inbox, 1, 1) == 'S' and 'SPUBLISH' or 'PUBLISH'
    redis.call(command, string.sub(inbox, 2), fence .. ':' .. conversation)
  end
end

-- Keeps the hash alive until every ticket in it expired (plus a second), and for at least half the
-- fence retention after its last use: a crashed process leaves nothing behind for ever, a live ticket
-- never loses its queue. The expiry is only rewritten when it falls short, and the field `until`
-- (read as `keep_text`) remembers it, so that checking costs no call of its own.
local function keep_until(key, keep_text, expires, now)
  local keep = keep_text and num(keep_text) or 0
  if keep < expires + 1000 or keep < now + retention / 2 then
    keep = math.max(expires + 1000, now + retention)
    redis.call('HSET', key, 'until', int(keep))
    redis.call('PEXPIRE', key, int(keep - now))
  end
end
