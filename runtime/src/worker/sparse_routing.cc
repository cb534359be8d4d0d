#include "ringtrain/worker/sparse_routing.h"

#include <algorithm>
#include <cstring>

#include "ringtrain/common/check.h"

namespace ringtrain::worker {

namespace {

// Cuts the keys of one table among the servers: two passes (count, then fill), so each
// server's frames are allocated once at their final size.
void Route(const ring::SparsePlacement& placement, uint32_t table, uint32_t source,
           std::span<const uint64_t> keys, std::span<const float> values, bool positions,
           std::vector<SparsePart>* parts) {
  const ring::SparseTableSpec& spec = placement.tables()[table];
  const size_t dim = static_cast<size_t>(spec.dim);
  RT_CHECK(values.empty() || values.size() == keys.size() * dim);
  const std::vector<int>& servers = placement.bucket_servers(table);
  std::vector<uint32_t> owner(keys.size());
  std::vector<size_t> count(parts->size(), 0);
  for (size_t k = 0; k < keys.size(); ++k) {
    RT_CHECK(keys[k] < spec.key_limit && (k == 0 || keys[k] > keys[k - 1]));
    owner[k] = static_cast<uint32_t>(servers[ring::SparseBucketOf(keys[k], spec.buckets)]);
    ++count[owner[k]];
  }
  std::vector<uint64_t*> key_out(parts->size(), nullptr);
  std::vector<float*> value_out(parts->size(), nullptr);
  std::vector<SparsePart::Slice*> slice_of(parts->size(), nullptr);
  for (size_t s = 0; s < parts->size(); ++s) {
    if (count[s] == 0) continue;
    SparsePart::Slice& slice = (*parts)[s].slices.emplace_back();
    slice.table = table;
    slice.dim = static_cast<uint32_t>(dim);
    slice.source = source;
    slice.keys = zmq::message_t(count[s] * sizeof(uint64_t));
    key_out[s] = static_cast<uint64_t*>(slice.keys.data());
    if (!values.empty()) {
      slice.values = zmq::message_t(count[s] * dim * sizeof(float));
      value_out[s] = static_cast<float*>(slice.values.data());
    }
    if (positions) slice.positions.reserve(count[s]);
    slice_of[s] = &slice;
  }
  for (size_t k = 0; k < keys.size(); ++k) {
    const uint32_t s = owner[k];
    *key_out[s]++ = keys[k];
    if (!values.empty()) {
      std::memcpy(value_out[s], values.data() + k * dim, dim * sizeof(float));
      value_out[s] += dim;
    }
    if (positions) slice_of[s]->positions.push_back(static_cast<uint32_t>(k));
  }
}

zmq::message_t Share(zmq::message_t& frame) {
  zmq::message_t copy;
  copy.copy(frame);  // shares the bytes (reference-counted)
  return copy;
}

void AddSlice(const SparsePart::Slice& slice, int64_t version, proto::Header* header) {
  proto::SparseSlice* s = header->add_sparse();
  s->set_table(slice.table);
  s->set_num_keys(slice.keys.size() / sizeof(uint64_t));
  s->set_dim(slice.dim);
  s->set_version(version);
}

}  // namespace

std::vector<SparsePart> RouteRows(const ring::SparsePlacement& placement, int num_servers,
                                  std::span<const SparseRows> rows) {
  std::vector<SparsePart> parts(static_cast<size_t>(num_servers));
  for (uint32_t i = 0; i < rows.size(); ++i) {
    RT_CHECK(rows[i].table < placement.tables().size());
    RT_CHECK(rows[i].values.size() ==
             rows[i].keys.size() * static_cast<size_t>(placement.tables()[rows[i].table].dim));
    Route(placement, rows[i].table, i, rows[i].keys, {}, /*positions=*/true, &parts);
  }
  return parts;
}

StatusOr<std::vector<SparsePart>> RouteGradients(const ring::SparsePlacement& placement,
                                                 int num_servers,
                                                 std::span<const SparseGradient> gradients,
                                                 const compress::CodecOptions& codec) {
  if (codec.type != compress::CodecType::kNone && codec.type != compress::CodecType::kFp16 &&
      codec.type != compress::CodecType::kInt8) {
    return InvalidArgument(std::string("sparse gradients are sent as none, fp16 or int8, not ") +
                           compress::CodecName(codec.type));
  }
  std::vector<SparsePart> parts(static_cast<size_t>(num_servers));
  for (uint32_t i = 0; i < gradients.size(); ++i) {
    RT_CHECK(gradients[i].table < placement.tables().size());
    Route(placement, gradients[i].table, i, gradients[i].keys, gradients[i].values,
          /*positions=*/false, &parts);
  }
  if (codec.type == compress::CodecType::kNone) return parts;
  for (SparsePart& part : parts) {
    for (SparsePart::Slice& slice : part.slices) {
      // int8: a scale per key's row, whatever else shares the slice (a rare key's small
      // gradient is not rounded to 0 by a common key's large one).
      compress::CodecOptions row_codec = codec;
      row_codec.block = std::min<int>(static_cast<int>(slice.dim), compress::kMaxBlock);
      const std::span<const float> values(static_cast<const float*>(slice.values.data()),
                                          slice.values.size() / sizeof(float));
      zmq::message_t encoded(compress::EncodedSize(row_codec, values.size()));
      if (Status s = compress::EncodeInto(row_codec, values, {},
                                          {static_cast<uint8_t*>(encoded.data()), encoded.size()});
          !s.ok()) {
        return s.WithContext("encoding the gradients of sparse table " +
                             std::to_string(slice.table));
      }
      slice.values = std::move(encoded);
      slice.value_codec = compress::SpecOf(row_codec);
    }
  }
  return parts;
}

void AddPullSlices(SparsePart& part, proto::Header* header, std::vector<zmq::message_t>* frames) {
  for (SparsePart::Slice& slice : part.slices) {
    AddSlice(slice, 0, header);
    frames->push_back(Share(slice.keys));
  }
}

void AddPushSlices(SparsePart& part, int64_t version, proto::Header* header,
                   std::vector<zmq::message_t>* frames) {
  for (SparsePart::Slice& slice : part.slices) {
    AddSlice(slice, version, header);
    proto::SparseSlice* s = header->mutable_sparse(header->sparse_size() - 1);
    switch (slice.value_codec.type) {
      case compress::CodecType::kFp16:
        s->set_value_codec(proto::CODEC_FP16);
        break;
      case compress::CodecType::kInt8:
        s->set_value_codec(proto::CODEC_INT8);
        s->set_value_codec_block(static_cast<uint32_t>(slice.value_codec.block));
        break;
      default:
        break;  // float32 (RouteGradients encodes with nothing else)
    }
    frames->push_back(Share(slice.keys));
    frames->push_back(Share(slice.values));
  }
}

Status CheckReply(const SparsePart& part, const transport::Message& reply, int64_t least,
                  const std::string& who, int64_t* version) {
  const proto::Header& h = reply.header;
  if (h.sparse_size() != static_cast<int>(part.slices.size())) {
    return DataLoss(who + " answered a pull of " + std::to_string(part.slices.size()) +
                    " sparse slices with " + std::to_string(h.sparse_size()));
  }
  for (int i = 0; i < h.sparse_size(); ++i) {
    const proto::SparseSlice& s = h.sparse(i);
    const SparsePart::Slice& asked = part.slices[static_cast<size_t>(i)];
    const uint64_t keys = asked.keys.size() / sizeof(uint64_t);
    const uint32_t dim = asked.dim;
    if (s.table() != asked.table || s.num_keys() != keys || s.dim() != dim) {
      return DataLoss(who + " sent sparse slice " + std::to_string(i) + " of table " +
                      std::to_string(s.table()) + " (" + std::to_string(s.num_keys()) +
                      " keys of dim " + std::to_string(s.dim()) + ") where table " +
                      std::to_string(asked.table) + " (" + std::to_string(keys) + " keys of dim " +
                      std::to_string(dim) + ") was asked for");
    }
    if (s.version() < least) {
      return DataLoss(who + " sent sparse rows at version " + std::to_string(s.version()) +
                      " where version >= " + std::to_string(least) + " was expected");
    }
    *version = std::min(*version, s.version());
  }
  return Status::Ok();
}

void ScatterReply(const SparsePart& part, const transport::Message& reply,
                  std::span<const SparseRows> rows) {
  for (size_t i = 0; i < part.slices.size(); ++i) {
    const SparsePart::Slice& slice = part.slices[i];
    const size_t dim = slice.dim;
    const std::span<const float> values = reply.SparseValues(i);
    float* out = rows[slice.source].values.data();
    for (size_t k = 0; k < slice.positions.size(); ++k) {
      std::memcpy(out + slice.positions[k] * dim, values.data() + k * dim, dim * sizeof(float));
    }
  }
}

}  // namespace ringtrain::worker
