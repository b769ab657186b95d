-- Sesame item writes: PUT /v1/vaults/{vault}/items/{item} with the item's current
-- version as expectedVersion (compare-and-set: a stale one is a 409), re-sending the
-- sealed overview and details that `cargo xtask bench-provision` printed.
--
-- Settings: BENCH_AUTH, BENCH_VAULT, BENCH_VERSIONS ("id:version,…", every item and its
-- current version), BENCH_OVERVIEW, BENCH_DETAILS, BENCH_THREADS (wrk's -t).
--
-- Versions: thread k of n owns the items whose position i (from 0) has i % n == k, so no
-- two threads write the same item. A thread keeps its free items in a queue: request()
-- takes the oldest, response() reads the new version from the answer (the item record's
-- "id" and "version") and puts the item back. An item is thus never in two requests at
-- once, and every write is based on the version the server last returned. With 16
-- connections and 100 items each connection has several items to itself.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local queue, head, tail = {}, 1, 0
local version, owned, in_flight = {}, {}, {}
local headers, prefix, overview, details
-- Thread globals, summed by done: 409 answers, and requests sent with no free item
-- (based on a version that is probably stale). Both stay 0 in a valid run.
conflicts, starved = 0, 0

setup = common.setup
done = common.done({ "conflicts", "starved" })

local function push(id)
    tail = tail + 1
    queue[tail] = id
end

function init(_args)
    common.seed()
    local threads = tonumber(common.env("BENCH_THREADS"))
    headers = common.headers(true)
    prefix = "/v1/vaults/" .. common.env("BENCH_VAULT") .. "/items/"
    overview = common.env("BENCH_OVERVIEW")
    details = common.env("BENCH_DETAILS")
    for i, pair in ipairs(common.split(common.env("BENCH_VERSIONS"), ",")) do
        if (i - 1) % threads == bench_index then
            local id, v = pair:match("^([a-z0-9]+):(%d+)$")
            version[id] = tonumber(v)
            owned[#owned + 1] = id
            push(id)
        end
    end
end

function request()
    local id
    if head <= tail then
        id = queue[head]
        queue[head] = nil
        head = head + 1
        in_flight[id] = true
    else
        starved = starved + 1
        id = owned[math.random(#owned)]
    end
    local body = string.format(
        '{"expectedVersion":%d,"state":"active","overview":"%s","details":"%s"}',
        version[id], overview, details)
    return wrk.format("PUT", prefix .. id, headers, body)
end

function response(status, _headers, body)
    local id, v
    if status == 200 then
        id, v = body:match('"id":"([a-z0-9]+)"'), body:match('"version":(%d+)')
    elseif status == 409 then
        conflicts = conflicts + 1
        -- Best effort: learn the current version from the message, and go on with it.
        id, v = body:match("item ([a-z0-9]+) is at version (%d+)")
    end
    if id and in_flight[id] and v then
        in_flight[id] = nil
        version[id] = tonumber(v)
        push(id)
    end
end
