-- delete: removes a conversation's queue whatever it holds; the fence counter stays, so fences keep
-- rising. Holders and waiters learn it when they next renew.
-- KEYS[1] queue list, KEYS[2] tickets hash
-- Reply: 1 when there was a queue, else 0
return math.min(1, redis.call('DEL', KEYS[1], KEYS[2]))
