-- OpenBao KV v2 writes: every request a POST of BENCH_BODY (JSON) to one of BENCH_PATHS
-- (comma-separated, /v1/secret/data/item-N), chosen at random, with BENCH_AUTH. Each
-- write stores a new version of that secret (no check-and-set).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local requests = {}

setup = common.setup
done = common.done()

function init(_args)
    common.seed()
    local body = common.env("BENCH_BODY")
    for _, path in ipairs(common.split(common.env("BENCH_PATHS"), ",")) do
        requests[#requests + 1] = wrk.format("POST", path, common.headers(true), body)
    end
end

function request()
    return requests[math.random(#requests)]
end
