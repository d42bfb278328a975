-- POST /api/v1/auth/refresh. Refresh tokens are single use: each request takes one from the pool
-- (seeded from $WARREN_BENCH_REFRESH) and each response puts the rotated successor back, so no
-- token is ever presented twice. Run with one thread and a pool of at least one token per connection.
local pool = {}

function init(args)
  for line in io.lines(os.getenv("WARREN_BENCH_REFRESH")) do pool[#pool + 1] = line end
end

function request()
  local token = table.remove(pool, 1) or "exhausted"
  return wrk.format("POST", "/api/v1/auth/refresh", { ["Content-Type"] = "application/json" },
    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local successor = body:match('"refresh_token":"([^"]+)"')
  if successor then pool[#pool + 1] = successor end
end
