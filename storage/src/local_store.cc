#include "ringtrain/storage/local_store.h"

#include <errno.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "ringtrain/common/input_file.h"

namespace ringtrain::storage {
namespace {

namespace fs = std::filesystem;

class FileStream final : public ByteStream {
 public:
  FileStream(InputFile file, std::string name, int64_t offset, int64_t end)
      : file_(std::move(file)), name_(std::move(name)), next_(offset), end_(end) {}

  StatusOr<size_t> Read(std::span<char> out) override {
    const size_t want = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(out.size()), std::max<int64_t>(0, end_ - next_)));
    if (want == 0) return size_t{0};
    while (true) {
      const ssize_t n = pread(file_.fd(), out.data(), want, next_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return DataLoss(name_ + ": read failed: " + std::strerror(errno));
      if (n == 0) {
        return DataLoss(name_ + ": ends at byte " + std::to_string(next_) + ", listed with " +
                        std::to_string(end_) + " (the file shrank while read)");
      }
      next_ += n;
      return static_cast<size_t>(n);
    }
  }

  const std::string& name() const override { return name_; }

 private:
  InputFile file_;
  const std::string name_;
  int64_t next_;
  const int64_t end_;
};

StatusOr<ObjectInfo> Stat(const std::string& path) {
  RT_ASSIGN_OR_RETURN(InputFile file, OpenInputFile(path));
  return ObjectInfo{path, static_cast<int64_t>(file.size())};
}

bool Hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

class LocalStore final : public ObjectStore {
 public:
  StatusOr<std::vector<ObjectInfo>> List(const Location& location) override {
    const std::string& path = location.path;
    std::vector<ObjectInfo> found;
    std::error_code ec;
    if (location.glob) {
      const fs::path pattern(path);
      const fs::path dir = pattern.has_parent_path() ? pattern.parent_path() : fs::path(".");
      const std::string name_pattern = pattern.filename().string();
      if (HasGlob(dir.string())) {
        return InvalidArgument(location.uri +
                               ": only the last component of a path may hold a glob");
      }
      fs::directory_iterator it(dir, ec), end;
      if (ec) return NotFound(location.uri + ": " + dir.string() + ": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) return Unavailable(location.uri + ": " + ec.message());
        const std::string name = it->path().filename().string();
        if (fnmatch(name_pattern.c_str(), name.c_str(), FNM_PATHNAME | FNM_PERIOD) != 0) continue;
        if (!it->is_regular_file(ec)) continue;
        const std::string file = pattern.has_parent_path() ? (dir / name).string() : name;
        RT_ASSIGN_OR_RETURN(ObjectInfo info, Stat(file));
        found.push_back(std::move(info));
      }
      // An error ends the iteration (the iterator becomes the end): never a partial listing.
      if (ec) return Unavailable(location.uri + ": listing " + dir.string() + ": " + ec.message());
    } else if (fs::is_directory(path, ec)) {
      fs::recursive_directory_iterator it(path, ec), end;
      if (ec) return FailedPrecondition(location.uri + ": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) return Unavailable(location.uri + ": " + ec.message());
        if (Hidden(it->path())) {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file(ec)) continue;
        RT_ASSIGN_OR_RETURN(ObjectInfo info, Stat(it->path().string()));
        found.push_back(std::move(info));
      }
      if (ec) return Unavailable(location.uri + ": listing: " + ec.message());
    } else {
      RT_ASSIGN_OR_RETURN(ObjectInfo info, Stat(path));
      found.push_back(std::move(info));
    }
    if (found.empty()) return NotFound(location.uri + ": matches no file");
    std::sort(found.begin(), found.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.uri < b.uri; });
    return found;
  }

  StatusOr<std::unique_ptr<ByteStream>> Open(const ObjectInfo& object, int64_t offset,
                                             int64_t length) override {
    RT_ASSIGN_OR_RETURN(InputFile file, OpenInputFile(object.uri));
    const int64_t end = length < 0 ? object.size : offset + length;
    return std::unique_ptr<ByteStream>(
        std::make_unique<FileStream>(std::move(file), object.uri, offset, end));
  }

  Status Put(const Location& location, std::string_view bytes) override {
    const fs::path target(location.path);
    static std::atomic<uint64_t> next{0};
    const fs::path tmp = target.string() + ".tmp-" + std::to_string(getpid()) + "-" +
                         std::to_string(next.fetch_add(1));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
      if (!out) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        return FailedPrecondition(location.uri + ": cannot write " + tmp.string());
      }
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return FailedPrecondition(location.uri + ": cannot rename into place: " + ec.message());
    }
    return Status::Ok();
  }

  Status Delete(const Location& location) override {
    std::error_code ec;
    fs::remove(location.path, ec);
    if (ec) return FailedPrecondition(location.uri + ": cannot delete: " + ec.message());
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<ObjectStore> MakeLocalStore() { return std::make_unique<LocalStore>(); }

}  // namespace ringtrain::storage
