// CheckEvent, table-driven: events of the job pass; each case breaks one field of a valid event
// and must be refused with a reason.
#include "ringtrain/launch/event_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "events.h"

namespace ringtrain::launch {
namespace {

using ::testing::HasSubstr;

// 2 servers, 3 workers, 4 epochs of 25 steps.
const EventBounds kBounds{2, 3, 4, 100};

// The last worker, at step 40 of 100 in epoch 2.
proto::Event WorkerProgress() { return testing::WorkerProgress(2, 40, 100, 2); }

// The last server.
proto::Event ServerReady() { return testing::ServerReady(1, "tcp://127.0.0.1:4242"); }

TEST(CheckEventTest, EventsOfTheJobPass) {
  const std::vector<proto::Event> valid = {
      WorkerProgress(),
      ServerReady(),
      testing::WorkerEvent(proto::FINISHED, 2, 100, 100, 4),
      testing::WorkerEvent(proto::EVAL, 2, 100, 100, 4),
      // A worker that failed before it knew its steps.
      testing::Failed("worker", 0, "cannot read the data"),
      testing::ServerFinished(0, 3),
      [] {  // a server's counters, every second
        proto::Event e = testing::ServerFinished(1, 2);
        e.set_type(proto::PROGRESS);
        return e;
      }(),
      [] {  // ... with the workers its round waits for
        proto::Event e = testing::ServerFinished(1, 0);
        e.set_type(proto::PROGRESS);
        e.add_waiting_for(0);
        e.add_waiting_for(2);
        return e;
      }(),
      [] {  // a worker that skips 12 bad records an epoch
        proto::Event e = WorkerProgress();
        e.set_records_skipped(12);
        return e;
      }(),
      [] {  // a worker that continued from step 30 (a restored job)
        proto::Event e = WorkerProgress();
        e.set_start_step(30);
        return e;
      }(),
      testing::ServerCheckpoint(1, 60, "/ckpt/job/ps-1/ckpt-0000000002-step-000000000060"),
      testing::ServerCheckpoint(0, 100, "/ckpt/job/ps-0/ckpt-0000000005-step-000000000100",
                                /*final=*/true),
      [] {  // a server that restored its shard at step 60
        proto::Event e = ServerReady();
        e.set_restored_from("/ckpt/job/ps-1/ckpt-0000000002-step-000000000060");
        e.set_restored_step(60);
        return e;
      }(),
  };
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
      {"records skipped beyond any data",
       [] {
         proto::Event e = WorkerProgress();
         e.set_records_skipped(uint64_t{1} << 41);
         return e;
       },
       "2199023255552 records skipped from worker"},
      {"records skipped from a server",
       [] {
         proto::Event e = ServerReady();
         e.set_records_skipped(1);
         return e;
       },
       "1 records skipped from ps"},
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
       "PROGRESS event from a parameter server must carry its counters only"},
      {"started after the step it reports",
       [] {
         proto::Event e = WorkerProgress();
         e.set_start_step(41);
         return e;
       },
       "started at step 41, now at step 40"},
      {"restored beyond the job's steps",
       [] {
         proto::Event e = ServerReady();
         e.set_restored_from("/ckpt");
         e.set_restored_step(101);
         return e;
       },
       "restored at step 101 of a job of 100"},
      {"restored step without a checkpoint",
       [] {
         proto::Event e = ServerReady();
         e.set_restored_step(5);
         return e;
       },
       "restored at step 5"},
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
      {"CHECKPOINT from a worker",
       [] {
         proto::Event e = testing::ServerCheckpoint(1, 60, "/ckpt/job/ps-1/ckpt-1");
         e.set_role("worker");
         return e;
       },
       "CHECKPOINT event from a worker"},
      {"CHECKPOINT without a location", [] { return testing::ServerCheckpoint(1, 60, ""); },
       "CHECKPOINT event without a location"},
      {"CHECKPOINT without its checkpoint",
       [] {
         proto::Event e = testing::ServerCheckpoint(1, 60, "/ckpt/job/ps-1/ckpt-1");
         e.clear_checkpoint();
         return e;
       },
       "CHECKPOINT event without a location"},
      {"CHECKPOINT beyond the job's steps",
       [] { return testing::ServerCheckpoint(1, 101, "/ckpt/job/ps-1/ckpt-1"); },
       "CHECKPOINT event: step 101 in a job of 100"},
      {"CHECKPOINT at a negative step",
       [] { return testing::ServerCheckpoint(1, -1, "/ckpt/job/ps-1/ckpt-1"); }, "step -1"},
      {"server FINISHED counting more workers than the job has",
       [] { return testing::ServerFinished(0, 4); }, "4 workers done of 3"},
      {"server PROGRESS counting more workers than the job has",
       [] {
         proto::Event e = testing::ServerFinished(0, 4);
         e.set_type(proto::PROGRESS);
         return e;
       },
       "4 workers done of 3"},
      {"server waiting for a worker beyond the job",
       [] {
         proto::Event e = testing::ServerFinished(0, 0);
         e.set_type(proto::PROGRESS);
         e.add_waiting_for(3);
         return e;
       },
       "waits for worker 3 of 3"},
      {"server waiting for more workers than the job has",
       [] {
         proto::Event e = testing::ServerFinished(0, 0);
         e.set_type(proto::PROGRESS);
         for (int i = 0; i < 4; ++i) e.add_waiting_for(0);
         return e;
       },
       "waits for 4 workers of 3"},
      {"worker naming workers it waits for",
       [] {
         proto::Event e = WorkerProgress();
         e.add_waiting_for(1);
         return e;
       },
       "PROGRESS event from a worker names workers"},
  };
  for (const BadCase& c : cases) {
    const Status s = CheckEvent(c.make(), kBounds);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(s.message(), HasSubstr(c.reason)) << c.name;
  }
}

}  // namespace
}  // namespace ringtrain::launch
