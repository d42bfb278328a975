-- GET /api/v1/users/me, cycling through the seeded access tokens (one per line in $WARREN_BENCH_TOKENS).
local tokens, i = {}, 0

function init(args)
  for line in io.lines(os.getenv("WARREN_BENCH_TOKENS")) do tokens[#tokens + 1] = line end
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. tokens[i] })
end
