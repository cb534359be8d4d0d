// CheckEvent, table-driven: events of the job pass; each case breaks one field of a valid event
// and must be refused with a reason.
#include "ringtrain/launch/event_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace ringtrain::launch {
namespace {

using ::testing::HasSubstr;

// 2 servers, 3 workers, 4 epochs of 25 steps.
const EventBounds kBounds{2, 3, 4, 100};

proto::Event WorkerProgress() {
  proto::Event e;
  e.set_type(proto::PROGRESS);
  e.set_role("worker");
  e.set_index(2);
  e.set_step(40);
  e.set_total_steps(100);
  e.set_epoch(2);
  return e;
}

proto::Event ServerReady() {
  proto::Event e;
  e.set_type(proto::READY);
  e.set_role("ps");
  e.set_index(1);
  e.set_endpoint("tcp://127.0.0.1:4242");
  return e;
}

TEST(CheckEventTest, EventsOfTheJobPass) {
  std::vector<proto::Event> valid = {WorkerProgress(), ServerReady()};
  proto::Event last = WorkerProgress();
  last.set_type(proto::FINISHED);
  last.set_step(100);
  last.set_epoch(4);
  valid.push_back(last);
  proto::Event eval = last;
  eval.set_type(proto::EVAL);
  valid.push_back(eval);
  proto::Event failed;  // a worker that failed before it knew its steps
  failed.set_type(proto::FAILED);
  failed.set_role("worker");
  failed.set_message("cannot read the data");
  valid.push_back(failed);
  proto::Event done;
  done.set_type(proto::FINISHED);
  done.set_role("ps");
  done.mutable_server_stats()->set_workers_done(3);
  valid.push_back(done);
  for (const proto::Event& e : valid) {
    EXPECT_TRUE(CheckEvent(e, kBounds).ok()) << e.ShortDebugString();
  }
}

struct BadCase {
  std::string name;
  std::function<proto::Event()> make;
  std::string reason;
};

TEST(CheckEventTest, EventsOutsideTheJobAreRefused) {
  const std::vector<BadCase> cases = {
      {"unspecified type",
       [] {
         proto::Event e = WorkerProgress();
         e.set_type(proto::EVENT_UNSPECIFIED);
         return e;
       },
       "unknown event type 0"},
      {"type the schema does not name",
       [] {
         proto::Event e = WorkerProgress();
         e.set_type(static_cast<proto::EventType>(99));
         return e;
       },
       "unknown event type 99"},
      {"unknown role",
       [] {
         proto::Event e = WorkerProgress();
         e.set_role("chief");
         return e;
       },
       "unknown role \"chief\""},
      {"worker index beyond the job",
       [] {
         proto::Event e = WorkerProgress();
         e.set_index(3);
         return e;
       },
       "worker 3 of a job with 3"},
      {"server index beyond the job",
       [] {
         proto::Event e = ServerReady();
         e.set_index(2);
         return e;
       },
       "ps 2 of a job with 2"},
      {"READY from a worker",
       [] {
         proto::Event e = ServerReady();
         e.set_role("worker");
         return e;
       },
       "READY event from a worker"},
      {"PROGRESS from a server",
       [] {
         proto::Event e = WorkerProgress();
         e.set_role("ps");
         e.set_index(0);
         return e;
       },
       "PROGRESS event from a parameter server"},
      {"step beyond the event's total",
       [] {
         proto::Event e = WorkerProgress();
         e.set_step(101);
         return e;
       },
       "step 101 of 100"},
      {"total beyond the job's",
       [] {
         proto::Event e = WorkerProgress();
         e.set_step(1000);
         e.set_total_steps(1000);
         return e;
       },
       "in a job of 100 steps per worker"},
      {"negative step",
       [] {
         proto::Event e = WorkerProgress();
         e.set_step(-1);
         return e;
       },
       "step -1"},
      {"epoch beyond the job's",
       [] {
         proto::Event e = WorkerProgress();
         e.set_epoch(5);
         return e;
       },
       "epoch 5 of 4"},
      {"negative epoch",
       [] {
         proto::Event e = WorkerProgress();
         e.set_epoch(-1);
         return e;
       },
       "epoch -1 of 4"},
      {"READY without an endpoint",
       [] {
         proto::Event e = ServerReady();
         e.clear_endpoint();
         return e;
       },
       "without an endpoint"},
      {"server FINISHED counting more workers than the job has",
       [] {
         proto::Event e;
         e.set_type(proto::FINISHED);
         e.set_role("ps");
         e.mutable_server_stats()->set_workers_done(4);
         return e;
       },
       "4 workers done of 3"},
  };
  for (const BadCase& c : cases) {
    const Status s = CheckEvent(c.make(), kBounds);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(s.message(), HasSubstr(c.reason)) << c.name;
  }
}

}  // namespace
}  // namespace ringtrain::launch
