#include "ringtrain/data/text_shard.h"

#include <algorithm>
#include <cstring>

#include "shard_reader.h"

namespace ringtrain::data {
namespace {

// Rows appended to growing vectors (the in-memory shard).
class DenseRows : public RowWriter {
 public:
  explicit DenseRows(int features) : features_(static_cast<size_t>(features)) {}
  float* Append(int32_t label) override {
    const size_t row = labels_.size();
    values_.resize((row + 1) * features_, 0.0f);
    labels_.push_back(label);
    return values_.data() + row * features_;
  }
  Dataset Take(int classes) {
    Dataset d;
    const int64_t rows = static_cast<int64_t>(labels_.size());
    d.features = RowMatrixXf(rows, static_cast<int64_t>(features_));
    if (rows > 0) std::memcpy(d.features.data(), values_.data(), values_.size() * sizeof(float));
    d.labels = std::move(labels_);
    d.num_classes = classes;
    values_ = {};
    return d;
  }

 private:
  size_t features_;
  std::vector<float> values_;
  std::vector<int32_t> labels_;
};

Status CheckOptions(const TextShardOptions& options) {
  if (options.sparse_rows) {
    if (options.workers >= 1 && options.index >= 0 && options.index < options.workers) {
      return Status::Ok();
    }
    return InvalidArgument("text data: worker " + std::to_string(options.index) + " of " +
                           std::to_string(options.workers));
  }
  if (options.features < 1 || options.classes < 2 || options.workers < 1 || options.index < 0 ||
      options.index >= options.workers || options.column_begin < 0 ||
      options.column_begin >= options.features || options.row_width() < 1 ||
      options.column_begin + options.row_width() > options.features) {
    return InvalidArgument("text data: features " + std::to_string(options.features) +
                           ", classes " + std::to_string(options.classes) + ", worker " +
                           std::to_string(options.index) + " of " +
                           std::to_string(options.workers));
  }
  return Status::Ok();
}

}  // namespace

std::vector<Piece> ShardPieces(const std::vector<storage::ObjectInfo>& objects,
                               const std::vector<bool>& compressed, int workers, int index) {
  int64_t total = 0;
  for (const storage::ObjectInfo& o : objects) total += o.size;
  // [lo, hi) of the line of bytes: floor(total * k / workers), without overflowing.
  const auto share = [&](int k) { return total / workers * k + total % workers * k / workers; };
  const int64_t lo = share(index);
  const int64_t hi = share(index + 1);
  std::vector<Piece> pieces;
  int64_t offset = 0;
  for (size_t k = 0; k < objects.size(); ++k) {
    const storage::ObjectInfo& o = objects[k];
    const int64_t begin = offset;
    const int64_t end = offset + o.size;
    offset = end;
    if (compressed[k]) {
      // Whole, to the share holding its first byte (an empty object: nobody; it has no records).
      if (o.size > 0 && begin >= lo && begin < hi) pieces.push_back({o, 0, o.size, true});
      continue;
    }
    const int64_t from = std::max(begin, lo);
    const int64_t to = std::min(end, hi);
    if (from < to) pieces.push_back({o, from - begin, to - begin, false});
  }
  return pieces;
}

namespace {

struct Listing {
  std::vector<storage::ObjectInfo> objects;
  std::vector<bool> compressed;  // gzip: not split
};

StatusOr<Listing> ListObjects(storage::Storage& storage, const std::string& uri) {
  Listing l;
  RT_ASSIGN_OR_RETURN(l.objects, storage.List(uri));
  for (const storage::ObjectInfo& o : l.objects) {
    RT_ASSIGN_OR_RETURN(const bool gz, IsGzip(storage, o));
    l.compressed.push_back(gz);
  }
  return l;
}

}  // namespace

int64_t TaskBytes(int64_t total) {
  return std::clamp<int64_t>(total / 64, int64_t{64} << 10, int64_t{16} << 20);
}

StatusOr<std::vector<std::vector<Piece>>> CutTasks(storage::Storage& storage,
                                                   const TextShardOptions& options,
                                                   int64_t task_bytes) {
  RT_RETURN_IF_ERROR(CheckOptions(options));
  RT_ASSIGN_OR_RETURN(Listing l, ListObjects(storage, options.uri));
  int64_t total = 0;
  for (const storage::ObjectInfo& o : l.objects) total += o.size;
  if (task_bytes <= 0) task_bytes = TaskBytes(total);
  const int64_t tasks = std::clamp<int64_t>((total + task_bytes - 1) / task_bytes, 1, INT32_MAX);
  // ShardPieces for every task at once: objects and tasks both in byte order, merged in one
  // pass (task k owns [share(k), share(k + 1)) of the line of bytes, as a worker would).
  const auto share = [&](int64_t k) { return total / tasks * k + total % tasks * k / tasks; };
  std::vector<std::vector<Piece>> cut(static_cast<size_t>(tasks));
  int64_t k = 0;
  int64_t offset = 0;
  for (size_t i = 0; i < l.objects.size(); ++i) {
    const storage::ObjectInfo& o = l.objects[i];
    const int64_t begin = offset;
    const int64_t end = offset + o.size;
    offset = end;
    if (o.size <= 0) continue;
    if (l.compressed[i]) {
      while (share(k + 1) <= begin) ++k;
      cut[static_cast<size_t>(k)].push_back({o, 0, o.size, true});
      continue;
    }
    for (int64_t pos = begin; pos < end;) {
      while (share(k + 1) <= pos) ++k;
      const int64_t to = std::min(end, share(k + 1));
      cut[static_cast<size_t>(k)].push_back({o, pos - begin, to - begin, false});
      pos = to;
    }
  }
  return cut;
}

StatusOr<TextShardPlan> PlanTextShard(storage::Storage& storage, const TextShardOptions& options,
                                      bool count, int64_t count_limit) {
  RT_RETURN_IF_ERROR(CheckOptions(options));
  RT_ASSIGN_OR_RETURN(Listing listing, ListObjects(storage, options.uri));
  const std::vector<storage::ObjectInfo>& objects = listing.objects;
  const std::vector<bool>& compressed = listing.compressed;
  TextShardPlan plan;
  plan.objects = static_cast<int64_t>(objects.size());
  plan.pieces = ShardPieces(objects, compressed, options.workers, options.index);
  for (const Piece& p : plan.pieces) plan.bytes += p.whole ? p.object.size : p.end - p.begin;
  if (count) {
    plan.records = 0;
    ShardReader reader(storage, options);
    for (const Piece& piece : plan.pieces) {
      if (plan.records >= count_limit) break;
      RT_ASSIGN_OR_RETURN(const int64_t n, reader.CountRecords(piece, count_limit - plan.records));
      plan.records += n;
    }
  }
  return plan;
}

StatusOr<TextShard> LoadTextShard(storage::Storage& storage, const TextShardOptions& options) {
  RT_ASSIGN_OR_RETURN(TextShardPlan plan, PlanTextShard(storage, options, /*count=*/false));
  TextShard shard;
  shard.pieces = std::move(plan.pieces);
  ShardReader reader(storage, options);
  DenseRows rows(static_cast<int>(options.row_width()));
  DenseRecords records(options, &rows);
  for (const Piece& piece : shard.pieces) RT_RETURN_IF_ERROR(reader.Read(piece, &records));
  shard.rows = rows.Take(options.classes);
  shard.skipped = reader.skipped();
  shard.skipped_examples = std::move(reader.skipped_examples());
  return shard;
}

}  // namespace ringtrain::data
