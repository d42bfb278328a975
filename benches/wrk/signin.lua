-- POST /api/v1/auth/signin, cycling through the seeded accounts ("email<TAB>password" lines in
-- $WARREN_BENCH_CREDENTIALS). Every request is a full Argon2 verification.
local bodies, i = {}, 0

function init(args)
  for line in io.lines(os.getenv("WARREN_BENCH_CREDENTIALS")) do
    local email, password = line:match("([^\t]+)\t(.+)")
    bodies[#bodies + 1] = string.format('{"email":"%s","password":"%s"}', email, password)
  end
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/api/v1/auth/signin", { ["Content-Type"] = "application/json" }, bodies[i])
end
