#include "ringtrain/ckpt/store.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

#include "decimal.h"
#include "file_io.h"
#include "ringtrain/ckpt/shard_file.h"

namespace ringtrain::ckpt {

namespace {

namespace fs = std::filesystem;
using internal::ParseDecimal;

constexpr char kPrefix[] = "ckpt-";
constexpr char kStepInfix[] = "-step-";
constexpr char kTempPrefix[] = ".tmp-";

// "ckpt-<sequence>-step-<step>" -> (sequence, step).
bool ParseName(std::string_view name, uint64_t* sequence, int64_t* step) {
  if (name.substr(0, sizeof(kPrefix) - 1) != kPrefix) return false;
  name.remove_prefix(sizeof(kPrefix) - 1);
  const size_t infix = name.find(kStepInfix);
  if (infix == std::string_view::npos) return false;
  uint64_t s = 0;
  if (!ParseDecimal(name.substr(0, infix), sequence) ||
      !ParseDecimal(name.substr(infix + sizeof(kStepInfix) - 1), &s) ||
      s > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  }
  *step = static_cast<int64_t>(s);
  return true;
}

std::string Name(uint64_t sequence, int64_t step) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "ckpt-%010llu-step-%012lld",
                static_cast<unsigned long long>(sequence), static_cast<long long>(step));
  return buf;
}

std::string TempName(const char* what, uint64_t sequence) {
  return std::string(kTempPrefix) + what + "-" + std::to_string(sequence) + "-" +
         std::to_string(::getpid());
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The checkpoint name an object's name belongs to ("ckpt-.../MANIFEST" -> "ckpt-..."), and
// whether it is the checkpoint's manifest.
std::string_view CheckpointOf(std::string_view object, bool* manifest) {
  const size_t slash = object.find('/');
  if (slash == std::string_view::npos) return {};
  *manifest = object.substr(slash + 1) == kManifestFileName;
  return object.substr(0, slash);
}

std::string ObjectName(const std::string& checkpoint, const char* file) {
  return checkpoint + "/" + file;
}

Status RenamePath(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    return Unavailable("cannot rename " + from + " to " + to + ": " + internal::ErrnoText(err));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<Store>> Store::Open(StoreOptions options) {
  if (options.directory.empty()) return InvalidArgument("checkpoint store: no directory");
  if (options.keep < 1) {
    return InvalidArgument("checkpoint store: keep must be >= 1 (got " +
                           std::to_string(options.keep) + ")");
  }
  std::error_code ec;
  fs::create_directories(options.directory, ec);
  if (ec) {
    return Unavailable("cannot create checkpoint directory " + options.directory + ": " +
                       ec.message());
  }
  if (!fs::is_directory(options.directory, ec)) {
    return Unavailable("checkpoint directory " + options.directory + " is not a directory");
  }
  uint64_t largest = 0;
  if (options.objects != nullptr) {
    // The staging directory holds nothing worth keeping: what a crash left there goes.
    for (fs::directory_iterator staged(options.directory, ec);
         !ec && staged != fs::directory_iterator(); staged.increment(ec)) {
      std::error_code rm;
      fs::remove_all(staged->path(), rm);
    }
    RT_ASSIGN_OR_RETURN(std::vector<std::string> names, options.objects->List());
    std::map<std::string, bool> committed;  // checkpoint name -> has its MANIFEST
    for (const std::string& object : names) {
      bool manifest = false;
      const std::string checkpoint(CheckpointOf(object, &manifest));
      uint64_t sequence = 0;
      int64_t step = 0;
      if (!ParseName(checkpoint, &sequence, &step)) continue;
      largest = std::max(largest, sequence);
      committed[checkpoint] = committed[checkpoint] || manifest;
    }
    // An upload that a crash interrupted (no MANIFEST): never a checkpoint.
    for (const std::string& object : names) {
      bool manifest = false;
      const std::string checkpoint(CheckpointOf(object, &manifest));
      auto c = committed.find(checkpoint);
      if (c != committed.end() && !c->second) {
        RT_RETURN_IF_ERROR(options.objects->Delete(object));
      }
    }
    return std::unique_ptr<Store>(new Store(std::move(options), largest + 1));
  }
  fs::directory_iterator it(options.directory, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    uint64_t sequence = 0;
    int64_t step = 0;
    if (name.rfind(kTempPrefix, 0) == 0) {
      // Left by a write or prune that a crash interrupted: never part of a checkpoint.
      std::error_code rm;
      fs::remove_all(it->path(), rm);
    } else if (ParseName(name, &sequence, &step)) {
      largest = std::max(largest, sequence);
    }
  }
  if (ec) {
    return Unavailable("cannot list checkpoint directory " + options.directory + ": " +
                       ec.message());
  }
  return std::unique_ptr<Store>(new Store(std::move(options), largest + 1));
}

StatusOr<std::unique_ptr<Store>> Store::OpenReadOnly(const std::string& directory,
                                                     std::shared_ptr<ObjectDirectory> objects) {
  if (directory.empty()) return InvalidArgument("checkpoint store: no directory");
  std::error_code ec;
  if (objects != nullptr) {
    fs::create_directories(directory, ec);
    if (ec)
      return Unavailable("cannot create staging directory " + directory + ": " + ec.message());
    RT_ASSIGN_OR_RETURN(std::vector<std::string> names, objects->List());
    if (names.empty()) return NotFound("no checkpoints in " + objects->Where(""));
    StoreOptions options;
    options.directory = directory;
    options.objects = std::move(objects);
    return std::unique_ptr<Store>(new Store(std::move(options), 0, /*read_only=*/true));
  }
  const fs::file_status status = fs::status(directory, ec);
  if (status.type() == fs::file_type::not_found) {
    return NotFound("no checkpoint directory " + directory);
  }
  if (ec) return Unavailable("cannot read checkpoint directory " + directory + ": " + ec.message());
  if (!fs::is_directory(status)) {
    return Unavailable("checkpoint directory " + directory + " is not a directory");
  }
  StoreOptions options;
  options.directory = directory;
  return std::unique_ptr<Store>(new Store(std::move(options), 0, /*read_only=*/true));
}

Store::Store(StoreOptions options, uint64_t next_sequence, bool read_only)
    : options_(std::move(options)), next_sequence_(next_sequence), read_only_(read_only) {}

std::string Store::location() const {
  return options_.objects != nullptr ? options_.objects->Where("") : options_.directory;
}

StatusOr<std::vector<CheckpointRef>> Store::List() const {
  std::vector<CheckpointRef> refs;
  if (options_.objects != nullptr) {
    RT_ASSIGN_OR_RETURN(std::vector<std::string> names, options_.objects->List());
    for (const std::string& object : names) {
      bool manifest = false;
      const std::string checkpoint(CheckpointOf(object, &manifest));
      CheckpointRef ref;
      if (!manifest || !ParseName(checkpoint, &ref.sequence, &ref.step)) continue;
      ref.name = checkpoint;
      ref.path = options_.objects->Where(checkpoint);
      refs.push_back(std::move(ref));
    }
    std::sort(refs.begin(), refs.end(), [](const CheckpointRef& a, const CheckpointRef& b) {
      return a.sequence > b.sequence;
    });
    return refs;
  }
  std::error_code ec;
  fs::directory_iterator it(options_.directory, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    CheckpointRef ref;
    ref.name = it->path().filename().string();
    if (!ParseName(ref.name, &ref.sequence, &ref.step)) continue;
    ref.path = it->path().string();
    refs.push_back(std::move(ref));
  }
  if (ec) {
    return Unavailable("cannot list checkpoint directory " + options_.directory + ": " +
                       ec.message());
  }
  std::sort(refs.begin(), refs.end(),
            [](const CheckpointRef& a, const CheckpointRef& b) { return a.sequence > b.sequence; });
  return refs;
}

StatusOr<WrittenCheckpoint> Store::Write(const ShardIdentity& id, const ShardState& state,
                                         bool final) {
  if (read_only_) {
    return FailedPrecondition("checkpoint store " + options_.directory + " is open read-only");
  }
  RT_RETURN_IF_ERROR(ValidateIdentity(id));
  RT_RETURN_IF_ERROR(CheckStateFits(state, id));
  const uint64_t sequence = next_sequence_++;
  const int64_t step = state.step();
  const std::string temp = (fs::path(options_.directory) / TempName("ckpt", sequence)).string();
  const std::string target = (fs::path(options_.directory) / Name(sequence, step)).string();

  std::error_code ec;
  fs::remove_all(temp, ec);
  if (!fs::create_directory(temp, ec) || ec) {
    return Unavailable("cannot create " + temp + ": " +
                       (ec ? ec.message() : std::string("it exists")));
  }
  // Whatever fails below leaves nothing behind but, at worst, a temporary directory that the
  // next Open removes.
  const auto fail = [&](const Status& s) {
    std::error_code rm;
    fs::remove_all(temp, rm);
    return s;
  };
  StatusOr<FileEntry> shard = WriteShardFile((fs::path(temp) / kShardFileName).string(), state, id);
  if (!shard.ok()) return fail(shard.status());
  Manifest m = ManifestFor(id);
  m.step = step;
  m.sequence = sequence;
  m.final = final;
  m.created_unix_ms = NowUnixMs();
  m.files.push_back(*shard);
  const std::string manifest = EncodeManifest(m);
  if (Status s =
          internal::WriteDurableFile((fs::path(temp) / kManifestFileName).string(), manifest);
      !s.ok()) {
    return fail(s);
  }
  if (Status s = internal::FsyncDirectory(temp); !s.ok()) return fail(s);
  if (Status s = RenamePath(temp, target); !s.ok()) return fail(s);
  RT_RETURN_IF_ERROR(internal::FsyncDirectory(options_.directory));

  WrittenCheckpoint written;
  const std::string name = Name(sequence, step);
  written.ref = CheckpointRef{sequence, step, target, name};
  if (options_.objects != nullptr) {
    Status uploaded = Upload(written.ref, name);
    std::error_code rm;
    fs::remove_all(target, rm);  // staged only
    RT_RETURN_IF_ERROR(uploaded);
    written.ref.path = options_.objects->Where(name);
  }
  written.bytes = shard->bytes + manifest.size();
  written.manifest = std::move(m);
  RT_RETURN_IF_ERROR(Prune(&written.pruned));
  return written;
}

Status Store::Upload(const CheckpointRef& staged, const std::string& name) {
  // The data first; the manifest, which commits the checkpoint, last.
  for (const char* file : {kShardFileName, kManifestFileName}) {
    const std::string path = (fs::path(staged.path) / file).string();
    std::error_code ec;
    const uintmax_t size = fs::file_size(path, ec);
    if (ec) return Unavailable("cannot read " + path + ": " + ec.message());
    RT_ASSIGN_OR_RETURN(std::string bytes,
                        internal::ReadSmallFile(path, static_cast<int64_t>(size)));
    RT_RETURN_IF_ERROR(options_.objects->Put(ObjectName(name, file), bytes)
                           .WithContext("uploading checkpoint " + name));
  }
  return Status::Ok();
}

Status Store::Prune(int* pruned) {
  RT_ASSIGN_OR_RETURN(std::vector<CheckpointRef> refs, List());
  if (options_.objects != nullptr) {
    if (refs.size() <= static_cast<size_t>(options_.keep)) return Status::Ok();
    RT_ASSIGN_OR_RETURN(std::vector<std::string> names, options_.objects->List());
    for (size_t i = static_cast<size_t>(options_.keep); i < refs.size(); ++i) {
      // The manifest first: a checkpoint half deleted is no checkpoint, and the next Open
      // deletes the rest.
      RT_RETURN_IF_ERROR(options_.objects->Delete(ObjectName(refs[i].name, kManifestFileName)));
      for (const std::string& object : names) {
        bool manifest = false;
        if (CheckpointOf(object, &manifest) == refs[i].name && !manifest) {
          RT_RETURN_IF_ERROR(options_.objects->Delete(object));
        }
      }
      ++*pruned;
    }
    return Status::Ok();
  }
  for (size_t i = static_cast<size_t>(options_.keep); i < refs.size(); ++i) {
    // Renamed away first, so a crash mid-delete never leaves a half checkpoint under a
    // checkpoint's name.
    const std::string doomed =
        (fs::path(options_.directory) / TempName("prune", refs[i].sequence)).string();
    RT_RETURN_IF_ERROR(RenamePath(refs[i].path, doomed));
    std::error_code ec;
    fs::remove_all(doomed, ec);
    if (ec) return Unavailable("cannot delete " + doomed + ": " + ec.message());
    ++*pruned;
  }
  return Status::Ok();
}

StatusOr<std::string> Store::ManifestBytes(const CheckpointRef& ref) const {
  if (options_.objects != nullptr) {
    return options_.objects->Get(ObjectName(ref.name, kManifestFileName), kMaxManifestBytes);
  }
  return internal::ReadSmallFile((fs::path(ref.path) / kManifestFileName).string(),
                                 kMaxManifestBytes);
}

StatusOr<std::string> Store::StageShardFile(const CheckpointRef& ref,
                                            const FileEntry& entry) const {
  const std::string object = ObjectName(ref.name, kShardFileName);
  // At most what the manifest says: a larger object is refused before it is read whole.
  RT_ASSIGN_OR_RETURN(std::string bytes, options_.objects->Get(object, entry.bytes));
  const std::string staged =
      (fs::path(options_.directory) / TempName("load", ref.sequence)).string();
  std::error_code ec;
  fs::remove_all(staged, ec);
  RT_RETURN_IF_ERROR(internal::WriteDurableFile(staged, bytes)
                         .WithContext("staging " + options_.objects->Where(object)));
  return staged;
}

StatusOr<Manifest> Store::ReadManifest(const CheckpointRef& ref) const {
  const std::string manifest_path =
      options_.objects != nullptr ? options_.objects->Where(ref.name + "/" + kManifestFileName)
                                  : (fs::path(ref.path) / kManifestFileName).string();
  StatusOr<std::string> bytes = ManifestBytes(ref);
  if (!bytes.ok()) return bytes.status();
  StatusOr<Manifest> m = ParseManifest(*bytes);
  if (!m.ok()) return m.status().WithContext(manifest_path);
  if (m->sequence != ref.sequence || m->step != ref.step) {
    return DataLoss(manifest_path + ": manifest of sequence " + std::to_string(m->sequence) +
                    " at step " + std::to_string(m->step) + " in a directory named for sequence " +
                    std::to_string(ref.sequence) + " at step " + std::to_string(ref.step));
  }
  return m;
}

StatusOr<LoadedCheckpoint> Store::Load(const CheckpointRef& ref,
                                       const ShardIdentity& expected) const {
  const std::string manifest_path =
      options_.objects != nullptr ? options_.objects->Where(ref.name + "/" + kManifestFileName)
                                  : (fs::path(ref.path) / kManifestFileName).string();
  StatusOr<Manifest> m = ReadManifest(ref);
  if (!m.ok()) return m.status();
  if (Status s = CheckMatches(*m, expected); !s.ok()) return s.WithContext(ref.path);
  const FileEntry* shard = nullptr;
  for (const FileEntry& f : m->files) {
    if (f.name == kShardFileName) shard = &f;
  }
  if (shard == nullptr) {
    return DataLoss(manifest_path + ": lists no " + std::string(kShardFileName));
  }
  StatusOr<ShardState> state = ShardState();
  if (options_.objects != nullptr) {
    StatusOr<std::string> staged = StageShardFile(ref, *shard);
    if (!staged.ok()) return staged.status();
    state = ReadShardFile(*staged, *shard, expected);
    std::error_code rm;
    fs::remove(*staged, rm);
    if (!state.ok()) {
      return Status(state.status().code(),
                    options_.objects->Where(ref.name + "/" + kShardFileName) + " (staged as " +
                        *staged + "): " + state.status().message());
    }
  } else {
    state = ReadShardFile((fs::path(ref.path) / kShardFileName).string(), *shard, expected);
  }
  if (!state.ok()) return state.status();
  if (state->step() != m->step) {
    return DataLoss(ref.path + ": the worker clocks say step " + std::to_string(state->step()) +
                    ", the manifest " + std::to_string(m->step));
  }
  LoadedCheckpoint loaded;
  loaded.ref = ref;
  loaded.manifest = std::move(m).value();
  loaded.state = std::move(state).value();
  return loaded;
}

StatusOr<LoadedCheckpoint> Store::LoadLatest(const ShardIdentity& expected) const {
  RT_ASSIGN_OR_RETURN(std::vector<CheckpointRef> refs, List());
  if (refs.empty()) return NotFound("no checkpoint in " + location());
  std::vector<std::string> skipped;
  for (const CheckpointRef& ref : refs) {
    StatusOr<LoadedCheckpoint> loaded = Load(ref, expected);
    if (loaded.ok()) {
      loaded->skipped = std::move(skipped);
      return loaded;
    }
    const StatusCode code = loaded.status().code();
    if (code != StatusCode::kNotFound && code != StatusCode::kDataLoss &&
        code != StatusCode::kFailedPrecondition) {
      // The file system failed (not the checkpoint): falling back would silently roll back
      // further than needed.
      return loaded.status();
    }
    skipped.push_back(loaded.status().message());
  }
  std::string all;
  for (const std::string& s : skipped) all += "\n  " + s;
  return FailedPrecondition("no usable checkpoint among the " + std::to_string(refs.size()) +
                            " in " + location() + ":" + all);
}

}  // namespace ringtrain::ckpt
