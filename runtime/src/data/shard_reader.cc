#include "shard_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "ringtrain/common/check.h"
#include "ringtrain/data/decompress.h"

namespace ringtrain::data {
namespace {

constexpr size_t kMaxSkippedExamples = 10;

// The number of newlines in [0, offset) of a plain object: the line number of the line that
// starts at `offset` is this + 1. Read only when a message needs it.
StatusOr<int64_t> LinesBefore(storage::Storage& storage, const storage::ObjectInfo& object,
                              int64_t offset) {
  RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> s, storage.Open(object, 0, offset));
  std::vector<char> buf(1 << 20);
  int64_t lines = 0;
  while (true) {
    RT_ASSIGN_OR_RETURN(const size_t n, s->Read(std::span<char>(buf)));
    if (n == 0) return lines;
    lines += std::count(buf.data(), buf.data() + n, '\n');
  }
}

// A parsed record's label as a class index, or an error.
Status ClassOf(float label, int classes, int32_t* out) {
  if (classes == 2 && (label == -1.0f || label == 1.0f)) {
    *out = label > 0 ? 1 : 0;
    return Status::Ok();
  }
  if (label != std::floor(label) || label < 0 || label >= static_cast<float>(classes)) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<double>(label));
    return InvalidArgument("the label " + std::string(text) + " is not a class (0 to " +
                           std::to_string(classes - 1) + (classes == 2 ? ", or -1 and +1" : "") +
                           ")");
  }
  *out = static_cast<int32_t>(label);
  return Status::Ok();
}

}  // namespace

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

bool IsLibsvmComment(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '#';
}

DenseRecords::DenseRecords(const TextShardOptions& options, RowWriter* out)
    : options_(options),
      out_(out),
      libsvm_(options.index_base, static_cast<uint64_t>(options.features)) {}

Status DenseRecords::Header(std::string_view line) {
  RT_ASSIGN_OR_RETURN(CsvSchema schema, ParseCsvHeader(line, options_.label_column));
  if (schema.features() != options_.features) {
    return InvalidArgument("the header names " + std::to_string(schema.features()) +
                           " feature columns besides the label, spec.dataset.features is " +
                           std::to_string(options_.features));
  }
  csv_.emplace(std::move(schema));
  return Status::Ok();
}

Status DenseRecords::Record(std::string_view line) {
  if (IsBlank(line)) return Cancelled("");
  const bool csv = options_.format == TextFormat::kCsv;
  if (!csv) {
    if (IsLibsvmComment(line)) return Cancelled("");
    RT_RETURN_IF_ERROR(libsvm_.Parse(line, &record_));
  } else {
    RT_CHECK(csv_.has_value());
    RT_RETURN_IF_ERROR(csv_->Parse(line, &record_));
  }
  int32_t label = 0;
  if (Status c = ClassOf(record_.label, options_.classes, &label); !c.ok()) {
    const int column = csv ? csv_->schema().label_column + 1 : 1;
    return Status(c.code(), "column " + std::to_string(column) + ": " + c.message());
  }
  float* row = out_->Append(label);
  if (row == nullptr) return Cancelled("the reader was stopped");
  const uint64_t begin = static_cast<uint64_t>(options_.column_begin);
  const uint64_t end = begin + static_cast<uint64_t>(options_.row_width());
  if (!csv) {
    for (size_t k = 0; k < record_.indices.size(); ++k) {
      const uint64_t i = record_.indices[k];
      if (i >= begin && i < end) row[i - begin] = record_.values[k];
    }
  } else {
    std::copy(record_.dense.begin() + static_cast<std::ptrdiff_t>(begin),
              record_.dense.begin() + static_cast<std::ptrdiff_t>(end), row);
  }
  return Status::Ok();
}

StatusOr<bool> IsGzip(storage::Storage& storage, const storage::ObjectInfo& object) {
  if (object.size < 2) return false;
  RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> s, storage.Open(object, 0, 2));
  RT_ASSIGN_OR_RETURN(const std::string head, storage::ReadAll(*s, 2));
  return head.size() == 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
         static_cast<unsigned char>(head[1]) == 0x8b;
}

ShardReader::ShardReader(storage::Storage& storage, const TextShardOptions& options)
    : storage_(storage), options_(options) {}

Status ShardReader::Read(const Piece& piece, RecordSink* out) {
  return Scan(piece, out, nullptr, INT64_MAX);
}

StatusOr<int64_t> ShardReader::CountRecords(const Piece& piece, int64_t limit) {
  int64_t counted = 0;
  RT_RETURN_IF_ERROR(Scan(piece, nullptr, &counted, limit));
  return counted;
}

Status ShardReader::Scan(const Piece& piece, RecordSink* out, int64_t* counted, int64_t limit) {
  const bool csv_format = options_.format == TextFormat::kCsv;
  const bool comments = options_.format == TextFormat::kLibsvm;
  bool header_seen = false;
  const bool from_start = piece.whole || piece.begin == 0;
  const int64_t start = from_start ? 0 : piece.begin - 1;
  RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> raw,
                      storage_.Open(piece.object, start, piece.object.size - start));
  std::unique_ptr<storage::ByteStream> bytes = std::move(raw);
  if (piece.whole) {
    RT_ASSIGN_OR_RETURN(bytes, MaybeGunzip(std::move(bytes)));
  }
  LineReader lines(std::move(bytes), options_.max_line_bytes);
  std::string_view line;
  if (csv_format && !from_start) {
    if (out != nullptr) RT_RETURN_IF_ERROR(HeaderOf(piece.object, out));
    header_seen = true;
  }
  if (!from_start) {
    // The partial record before the piece's first whole one: the previous piece's.
    RT_ASSIGN_OR_RETURN(const bool any, lines.Next(&line));
    if (!any) return Status::Ok();
  }
  std::optional<int64_t> lines_before;  // newlines in [0, start): counted on the first error
  while (true) {
    const int64_t line_start = start + lines.bytes_consumed();
    if (!piece.whole && line_start >= piece.end) return Status::Ok();
    StatusOr<bool> more = lines.Next(&line);
    if (!more.ok()) return Located(piece, more.status(), from_start, start, lines);
    if (!*more) return Status::Ok();
    if (csv_format && !header_seen) {
      header_seen = true;
      if (out == nullptr) continue;
      if (Status h = out->Header(line); !h.ok()) {
        return LineError(piece, h, from_start, start, &lines_before, lines);
      }
      continue;
    }
    if (out == nullptr) {
      if (!IsBlank(line) && (!comments || !IsLibsvmComment(line)) && ++*counted >= limit) {
        return Status::Ok();
      }
      continue;
    }
    Status s = out->Record(line);
    if (s.ok() || s.code() == StatusCode::kCancelled) {
      if (s.ok() || s.message().empty()) continue;  // a record, or none
      return s;                                     // the consumer went away
    }
    Status located = LineError(piece, s, from_start, start, &lines_before, lines);
    if (!options_.skip_bad_records) return located;
    ++skipped_;
    if (skipped_examples_.size() < kMaxSkippedExamples) {
      skipped_examples_.push_back(located.message());
    }
  }
}

Status ShardReader::HeaderOf(const storage::ObjectInfo& object, RecordSink* out) {
  const int64_t n =
      std::min<int64_t>(object.size, static_cast<int64_t>(options_.max_line_bytes) + 2);
  RT_ASSIGN_OR_RETURN(std::unique_ptr<storage::ByteStream> s, storage_.Open(object, 0, n));
  LineReader header(std::move(s), options_.max_line_bytes);
  std::string_view line;
  StatusOr<bool> any = header.Next(&line);
  if (!any.ok()) return any.status();
  if (!*any) return DataLoss(object.uri + ": no header line");
  if (Status h = out->Header(line); !h.ok()) return h.WithContext(object.uri + ":1");
  return Status::Ok();
}

// The error of the line LineReader returned last, as "<uri>:<line>: <message>". In a piece
// read from `start` > 0, LineReader's line k is the object's line (newlines before start) + k.
Status ShardReader::LineError(const Piece& piece, const Status& s, bool from_start, int64_t start,
                              std::optional<int64_t>* lines_before, const LineReader& lines) {
  int64_t number = lines.line_number();
  if (!from_start) {
    if (!lines_before->has_value()) {
      StatusOr<int64_t> before = LinesBefore(storage_, piece.object, start);
      if (!before.ok()) return before.status();
      *lines_before = *before;
    }
    number += **lines_before;
  }
  return Status(s.code(), piece.object.uri + ":" + std::to_string(number) + ": " + s.message());
}

// LineReader's own errors carry the stream's name and its line count; in a piece that starts
// inside the object, that count starts there, so the message is made again.
Status ShardReader::Located(const Piece& piece, const Status& s, bool from_start, int64_t start,
                            const LineReader& lines) {
  const std::string prefix =
      piece.object.uri + ":" + std::to_string(lines.line_number() + 1) + ": ";
  if (from_start || s.message().rfind(prefix, 0) != 0) return s;
  StatusOr<int64_t> before = LinesBefore(storage_, piece.object, start);
  if (!before.ok()) return s;
  return Status(s.code(), piece.object.uri + ":" +
                              std::to_string(*before + lines.line_number() + 1) + ": " +
                              s.message().substr(prefix.size()));
}

}  // namespace ringtrain::data
