-- batch: runs several operations in one call, each on its own conversation's key, in order, so that
-- Redis reads, dispatches and answers one command for all of them. The operations are those of the
-- table OPS, defined before this.
-- KEYS[i] the key of the i-th operation
-- ARGV for each operation in turn: its name, how many arguments it has, then those arguments
-- Reply: { reply of operation 1, reply of operation 2, ... }; an operation that fails has its error
-- as its reply, and the ones after it still run.
begin_command()
local replies = {}
local at = 1
for i = 1, #KEYS do
  local operation, count = OPS[ARGV[at]], num(ARGV[at + 1])
  local ok, reply = pcall(operation, KEYS[i], unpack(ARGV, at + 2, at + 1 + count))
  if ok then
    replies[i] = reply
  elseif type(reply) == 'table' and reply.err then
    replies[i] = reply
  else
    replies[i] = redis.error_reply(tostring(reply))
  end
  at = at + 2 + count
end
return replies
