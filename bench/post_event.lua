-- wrk script: each request posts a new event (unique idempotency key) for one of the people
-- listed one id per line in the file named by the third argument, in turn.
-- wrk -s bench/post_event.lua URL -- <access token> <run id> <people file>
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
local counter = 0
function init(args)
  token = args[1]
  run = args[2]
  people = {}
  for line in io.lines(args[3]) do
    table.insert(people, line)
  end
end
function request()
  counter = counter + 1
  local n = counter % 100
  local plan = (counter % 7 == 0) and "gold" or "silver"
  local body = string.format(
    '{"event_type":"custom.t%d","idempotency_key":"%s-%d-%d","person_id":"%s","payload":{"n":%d,"plan":"%s"}}',
    counter % 10, run, tid, counter, people[counter % #people + 1], n, plan)
  return wrk.format("POST", "/api/v1/events", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
