-- Reads: every request a GET of one of BENCH_PATHS (comma-separated), chosen at random,
-- with the header BENCH_AUTH ("Name: value") if set. Sesame item reads, OpenBao KV v2
-- reads and /healthz all use it.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local requests = {}

setup = common.setup
done = common.done()

function init(_args)
    common.seed()
    local headers = common.headers(false)
    for _, path in ipairs(common.split(common.env("BENCH_PATHS"), ",")) do
        requests[#requests + 1] = wrk.format("GET", path, headers)
    end
end

function request()
    return requests[math.random(#requests)]
end
