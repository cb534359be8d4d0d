// status.checkpoint from what the parameter servers report (JobCheckpointStatus), table-driven,
// and where the job's checkpoints are (JobCheckpointLocation).
#include "ringtrain/operator/checkpoint_status.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ringtrain::op {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Time kT0 = Time() + std::chrono::hours(490000);  // 2025-11-24

ServerCheckpoint At(int64_t step, Time time) {
  return ServerCheckpoint{step, time, "/ckpt/j/ps/ckpt-" + std::to_string(step), false};
}

struct Case {
  std::string name;
  std::map<int, ServerCheckpoint> reported;
  int num_servers;
  std::optional<CheckpointStatus> want;
};

TEST(JobCheckpointStatusTest, EveryServerMustHaveOneAndTheJobHasTheSmallestStep) {
  const std::string where = "/ckpt/j";
  const std::vector<Case> cases = {
      {"nothing reported", {}, 2, std::nullopt},
      {"one server of two", {{0, At(40, kT0)}}, 2, std::nullopt},
      {"the other server of two", {{1, At(40, kT0)}}, 2, std::nullopt},
      {"a single server", {{0, At(40, kT0)}}, 1, CheckpointStatus{40, kT0, where}},
      {"the smallest step, the newest time",
       {{0, At(60, kT0)}, {1, At(50, kT0 + seconds(7))}, {2, At(70, kT0 + seconds(3))}},
       3,
       CheckpointStatus{50, kT0 + seconds(7), where}},
      {"a server beyond the job's replicas is ignored",
       {{0, At(60, kT0)}, {5, At(1, kT0 + seconds(9))}},
       1,
       CheckpointStatus{60, kT0, where}},
      {"a report from a server beyond the replicas does not stand in for a missing one",
       {{0, At(60, kT0)}, {2, At(60, kT0)}},
       2,
       std::nullopt},
      {"the time to the second, as the status keeps it",
       {{0, At(10, kT0 + milliseconds(1999))}},
       1,
       CheckpointStatus{10, kT0 + seconds(1), where}},
      {"no servers", {{0, At(10, kT0)}}, 0, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(JobCheckpointStatus(c.reported, c.num_servers, where), c.want) << c.name;
  }
}

TEST(JobCheckpointLocationTest, TheJobsDirectoryUnderTheSpecsPath) {
  job::TrainingJob j;
  j.metadata.name = "mnist";
  EXPECT_EQ(JobCheckpointLocation(j), "") << "no spec.checkpoint";
  j.spec.checkpoint = job::CheckpointSpec{};
  for (const auto& [path, want] :
       std::vector<std::pair<std::string, std::string>>{{"/ckpt", "/ckpt/mnist"},
                                                        {"/ckpt/runs/", "/ckpt/runs/mnist"},
                                                        {"file:///ckpt", "file:///ckpt/mnist"},
                                                        {"/", "/mnist"}}) {
    j.spec.checkpoint->path = path;
    EXPECT_EQ(JobCheckpointLocation(j), want) << path;
  }
}

}  // namespace
}  // namespace ringtrain::op
