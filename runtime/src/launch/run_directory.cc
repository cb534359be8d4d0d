#include "ringtrain/launch/run_directory.h"

#include <stdlib.h>

#include <filesystem>
#include <utility>

namespace ringtrain::launch {
namespace {

// sun_path holds 108 bytes with its NUL; the longest name is "worker-4095" or "control", 16 is
// room to spare.
constexpr size_t kMaxSocketPath = 107;
constexpr size_t kLongestName = 16;
constexpr char kPattern[] = "/ringtrain-run-XXXXXX";

}  // namespace

StatusOr<RunDirectory> RunDirectory::Create(const std::string& parent) {
  std::string base = parent;
  if (base.size() + sizeof(kPattern) + kLongestName > kMaxSocketPath) base = "/tmp";
  std::string pattern = base + kPattern;
  if (mkdtemp(pattern.data()) == nullptr) {
    return Unavailable("cannot create the run's socket directory from " + pattern);
  }
  return RunDirectory(pattern);
}

RunDirectory::RunDirectory(RunDirectory&& other) noexcept
    : path_(std::exchange(other.path_, std::string())) {}

RunDirectory& RunDirectory::operator=(RunDirectory&& other) noexcept {
  if (this != &other) {
    RunDirectory old(std::move(*this));
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

RunDirectory::~RunDirectory() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort
}

}  // namespace ringtrain::launch
