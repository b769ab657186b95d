-- Shared by the wrk scripts of `make bench-server` (bench/server.py): settings from the
-- environment, thread bookkeeping, and the one-line JSON result the driver parses.
--
-- wrk runs each script once per thread (its own Lua state: request/response/init) and
-- once more in the main state (setup per thread, then done). The driver passes its
-- settings as BENCH_* environment variables rather than arguments, so that a session or
-- token is not in wrk's command line.

local common = {}

-- The environment variable `name`; an error naming it when it is unset.
function common.env(name)
    local value = os.getenv(name)
    if value == nil or value == "" then
        error("bench/server: the environment variable " .. name .. " is not set")
    end
    return value
end

-- `text` split on `sep` (a single plain character), empty parts dropped.
function common.split(text, sep)
    local parts = {}
    for part in string.gmatch(text, "([^" .. sep .. "]+)") do
        parts[#parts + 1] = part
    end
    return parts
end

-- "Name: value" (BENCH_AUTH, optional) as a header table, with Content-Type for bodies.
function common.headers(with_body)
    local headers = {}
    local auth = os.getenv("BENCH_AUTH")
    if auth and auth ~= "" then
        local name, value = auth:match("^([^:]+):%s*(.*)$")
        headers[name] = value
    end
    if with_body then
        headers["Content-Type"] = "application/json"
    end
    return headers
end

-- setup(thread), main state: numbers the threads (the thread's global bench_index, read
-- in its init) and keeps them for done.
common.threads = {}
function common.setup(thread)
    thread:set("bench_index", #common.threads)
    common.threads[#common.threads + 1] = thread
end

-- init, thread state: a per-thread random sequence.
function common.seed()
    math.randomseed(os.time() * 1000 + (bench_index or 0) * 7919)
end

-- done(summary, latency, requests), main state: one line "BENCH_RESULT {json}" with the
-- counts, the duration (µs), the latency mean and percentiles (µs), and the sum over
-- threads of each global named in `counters` (e.g. conflicts seen by a write script).
function common.done(counters)
    return function(summary, latency, _requests)
        local e = summary.errors
        local fields = {
            string.format('"requests":%d', summary.requests),
            string.format('"duration_us":%d', summary.duration),
            string.format('"bytes":%d', summary.bytes),
            string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
                e.connect, e.read, e.write, e.status, e.timeout),
            string.format('"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}',
                latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
                latency:percentile(99), latency:percentile(99.9)),
        }
        for _, name in ipairs(counters or {}) do
            local total = 0
            for _, thread in ipairs(common.threads) do
                total = total + (tonumber(thread:get(name)) or 0)
            end
            fields[#fields + 1] = string.format('"%s":%d', name, total)
        end
        io.write("BENCH_RESULT {" .. table.concat(fields, ",") .. "}\n")
    end
end

return common
