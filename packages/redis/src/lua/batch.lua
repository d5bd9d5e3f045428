-- batch: runs several operations in one call, each on its own conversation's key, in order, so that
-- Redis reads, dispatches and answers one command for all of them. The operations are those of the
-- table OPS, and ARITY tells how many arguments each takes, both defined before this.
-- KEYS[i] the key of the i-th operation
-- ARGV the fence retention ms, then for each operation in turn: its name, then its arguments
-- Reply: { reply of operation 1, reply of operation 2, ... }; an operation that fails has its error
-- as its reply, and the ones after it still run.
begin_command(ARGV[1])
local replies = {}
local at = 2
for i = 1, #KEYS do
  local name = ARGV[at]
  local arity = ARITY[name]
  local ok, reply = pcall(OPS[name], KEYS[i], unpack(ARGV, at + 1, at + arity))
  if ok then
    replies[i] = reply
  elseif type(reply) == 'table' and reply.err then
    replies[i] = reply
  else
    replies[i] = redis.error_reply(tostring(reply))
  end
  at = at + 1 + arity
end
return replies
