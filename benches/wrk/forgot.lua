-- POST /api/v1/auth/forgot-password, alternating the seeded accounts' addresses (one reset
-- link each per resend interval; the rest are accepted silently) with unknown ones.
local bodies, i = {}, 0

function init(args)
  for line in io.lines(os.getenv("WARREN_BENCH_CREDENTIALS")) do
    local email = line:match("([^\t]+)\t")
    bodies[#bodies + 1] = string.format('{"email":"%s"}', email)
    bodies[#bodies + 1] = string.format('{"email":"nobody-%d@example.com"}', #bodies)
  end
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/api/v1/auth/forgot-password", { ["Content-Type"] = "application/json" }, bodies[i])
end
