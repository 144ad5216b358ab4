-- wrk script: each request creates a new person with a unique email.
-- wrk -s bench/post_person.lua URL -- <access token> <run id>
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
local counter = 0
function init(args)
  token = args[1]
  run = args[2]
end
function request()
  counter = counter + 1
  local body = string.format('{"email":"bench-%s-%d-%d@bench.test","name":"Bench Person %d"}', run, tid, counter, counter)
  return wrk.format("POST", "/api/v1/people", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
