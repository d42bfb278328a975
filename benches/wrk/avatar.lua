-- PUT /api/v1/users/me/avatar with the 2-megapixel JPEG in $WARREN_BENCH_JPEG, cycling through
-- the seeded access tokens (one per line in $WARREN_BENCH_TOKENS).
local tokens, i, body = {}, 0, nil

function init(args)
  for line in io.lines(os.getenv("WARREN_BENCH_TOKENS")) do tokens[#tokens + 1] = line end
  local file = assert(io.open(os.getenv("WARREN_BENCH_JPEG"), "rb"))
  body = file:read("*a")
  file:close()
end

function request()
  i = i % #tokens + 1
  local headers = { ["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "image/jpeg" }
  return wrk.format("PUT", "/api/v1/users/me/avatar", headers, body)
end
