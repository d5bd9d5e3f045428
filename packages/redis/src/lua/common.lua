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

-- Starts a command: a function library keeps its variables from one call to the next, so the clock
-- read by the last command is forgotten.
local function begin_command()
  clock_ms, clock_us = nil, nil
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

-- Reads, in one call, what every script needs first: the queue positions, until when (ms on Redis's
-- clock) the key is kept, and either the last fence or, when `fence` is given, the position of that
-- ticket (also as the text it is stored as). Each field read costs, so no more are.
local function load(key, fence)
  local v = redis.call('HMGET', key, 'head', 'tail', 'until', fence and 's' .. fence or 'last')
  return {
    head = v[1] and num(v[1]) or 0,
    tail = v[2] and num(v[2]) or 0,
    keep_text = v[3] or nil,
    last = not fence and v[4] or nil,
    position = fence and v[4] and num(v[4]) or nil,
    position_text = fence and v[4] or nil,
  }
end

-- Stores a loaded queue's new head. An empty queue keeps no positions: the next ticket takes 0.
local function save_head(key, state)
  if state.head == state.tail then
    state.head, state.tail = 0, 0
    redis.call('HDEL', key, 'head', 'tail')
  else
    redis.call('HSET', key, 'head', int(state.head))
  end
end

-- Pops released and expired tickets off the front of a loaded queue (moving state.head). Returns the
-- live head's fence, expiry and owner (nil when the queue is empty) and how many entries were popped.
local function front(key, state, now)
  local popped = 0
  while state.head < state.tail do
    local value = redis.call('HGET', key, 'q' .. int(state.head))
    if value then
      local fence, expires, owner = parse(value)
      if expires > now then
        if popped > 0 then
          save_head(key, state)
        end
        return fence, expires, owner, popped
      end
      redis.call('HDEL', key, 'q' .. int(state.head), 's' .. fence)
    end
    state.head = state.head + 1
    popped = popped + 1
  end
  if popped > 0 then
    save_head(key, state)
  end
  return nil, nil, nil, popped
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
-- remembers it, so that checking costs no call of its own (and its text is made a number only here).
local function keep_until(key, state, expires, now, retention)
  local keep = state.keep_text and num(state.keep_text) or 0
  if keep < expires + 1000 or keep < now + retention / 2 then
    keep = math.max(expires + 1000, now + retention)
    redis.call('HSET', key, 'until', int(keep))
    redis.call('PEXPIRE', key, int(keep - now))
  end
end
