#include "ringtrain/ckpt/manifest.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include <zlib.h>
#include <nlohmann/json.hpp>

#include "decimal.h"

namespace ringtrain::ckpt {

namespace {

using internal::ParseDecimal;
using nlohmann::json;

constexpr char kHeaderWord[] = "ringtrain-checkpoint-manifest";
// The header line is short; anything longer is not a manifest.
constexpr size_t kMaxHeaderLine = 128;

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08" PRIx32, v);
  return buf;
}

// Strict hex parsers: exactly `digits` lowercase or uppercase hex digits (after "0x" for 64).
bool ParseHex(std::string_view s, size_t digits, uint64_t* out) {
  if (s.size() != digits) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// Typed field readers over a parsed body: DataLoss naming the field, never an exception.
class Fields {
 public:
  explicit Fields(const json& j) : j_(j) {}

  Status Get(const char* key, std::string* out) const {
    const json* v = Find(key);
    if (v == nullptr || !v->is_string()) return Bad(key, "a string");
    *out = v->get<std::string>();
    return Status::Ok();
  }
  Status Get(const char* key, bool* out) const {
    const json* v = Find(key);
    if (v == nullptr || !v->is_boolean()) return Bad(key, "true or false");
    *out = v->get<bool>();
    return Status::Ok();
  }
  // An integer in [lo, hi].
  Status Get(const char* key, int64_t lo, int64_t hi, int64_t* out) const {
    const json* v = Find(key);
    if (v == nullptr || !v->is_number_integer()) return Bad(key, "an integer");
    const std::string range = "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(hi)) return Bad(key, range);
      *out = static_cast<int64_t>(u);
    } else {
      *out = v->get<int64_t>();
    }
    if (*out < lo || *out > hi) return Bad(key, range);
    return Status::Ok();
  }
  Status GetInt(const char* key, int lo, int hi, int* out) const {
    int64_t v = 0;
    RT_RETURN_IF_ERROR(Get(key, lo, hi, &v));
    *out = static_cast<int>(v);
    return Status::Ok();
  }
  Status GetFingerprint(const char* key, uint64_t* out) const {
    std::string s;
    RT_RETURN_IF_ERROR(Get(key, &s));
    if (s.size() != 18 || s[0] != '0' || s[1] != 'x' ||
        !ParseHex(std::string_view(s).substr(2), 16, out)) {
      return Bad(key, "a fingerprint like 0x0123456789abcdef");
    }
    return Status::Ok();
  }
  const json* Find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  Status Bad(const std::string& key, const std::string& what) const {
    return DataLoss("manifest field \"" + key + "\" must be " + what);
  }

 private:
  const json& j_;
};

bool ValidFileName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == '\0') return false;
  }
  return true;
}

}  // namespace

Manifest ManifestFor(const ShardIdentity& id) {
  Manifest m;
  m.job = id.job;
  m.server_index = id.server_index;
  m.ring_servers = id.ring_servers;
  m.layout_fingerprint = id.layout_fingerprint;
  m.model_fingerprint = id.model_fingerprint;
  m.sync_mode = id.sync_mode;
  m.optimizer = id.optimizer;
  m.state_slots = id.state_slots;
  m.num_workers = id.num_workers;
  m.num_partitions = static_cast<int64_t>(id.partitions.size());
  m.num_elements = id.num_elements();
  return m;
}

std::string EncodeManifest(const Manifest& m) {
  // Fields in the order a reader looks for them (ordered_json keeps insertion order).
  using ordered = nlohmann::ordered_json;
  ordered files = ordered::array();
  for (const FileEntry& f : m.files) {
    files.push_back({{"name", f.name}, {"bytes", f.bytes}, {"crc32", Hex32(f.crc32)}});
  }
  ordered body = {
      {"formatVersion", m.format_version},
      {"job", m.job},
      {"step", m.step},
      {"sequence", m.sequence},
      {"final", m.final},
      {"createdUnixMs", m.created_unix_ms},
      {"server", {{"index", m.server_index}}},
      {"ring", m.ring_servers},
      {"layoutFingerprint", FingerprintHex(m.layout_fingerprint)},
      {"modelFingerprint", FingerprintHex(m.model_fingerprint)},
      {"syncMode", m.sync_mode},
      {"optimizer", {{"kind", m.optimizer}, {"stateSlots", m.state_slots}}},
      {"workers", m.num_workers},
      {"partitions", m.num_partitions},
      {"elements", m.num_elements},
      {"files", files},
  };
  const std::string text = body.dump(2) + "\n";
  return std::string(kHeaderWord) + " " + std::to_string(m.format_version) +
         " crc32=" + Hex32(Crc32(text)) + " bytes=" + std::to_string(text.size()) + "\n" + text;
}

StatusOr<Manifest> ParseManifest(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(kMaxManifestBytes)) {
    return DataLoss("manifest of " + std::to_string(bytes.size()) + " bytes, more than " +
                    std::to_string(kMaxManifestBytes));
  }
  const size_t eol = bytes.find('\n');
  if (eol == std::string_view::npos || eol > kMaxHeaderLine) {
    return DataLoss("manifest has no header line (empty, truncated or not a manifest)");
  }
  // "<word> <version> crc32=<hex8> bytes=<n>"
  const std::string_view header = bytes.substr(0, eol);
  const std::string_view body = bytes.substr(eol + 1);
  std::vector<std::string_view> words;
  for (size_t start = 0; start <= header.size();) {
    size_t sp = header.find(' ', start);
    if (sp == std::string_view::npos) sp = header.size();
    words.push_back(header.substr(start, sp - start));
    start = sp + 1;
  }
  uint64_t version = 0;
  uint64_t crc = 0;
  uint64_t size = 0;
  if (words.size() != 4 || words[0] != kHeaderWord || !ParseDecimal(words[1], &version) ||
      words[2].substr(0, 6) != "crc32=" || !ParseHex(words[2].substr(6), 8, &crc) ||
      words[3].substr(0, 6) != "bytes=" || !ParseDecimal(words[3].substr(6), &size)) {
    return DataLoss("manifest header line is damaged: \"" + std::string(header) + "\"");
  }
  if (version != static_cast<uint64_t>(kFormatVersion)) {
    return FailedPrecondition("checkpoint format version " + std::to_string(version) +
                              "; this build reads version " + std::to_string(kFormatVersion));
  }
  if (size != body.size()) {
    return DataLoss("manifest body is " + std::to_string(body.size()) + " bytes, its header says " +
                    std::to_string(size) + (body.size() < size ? " (truncated)" : ""));
  }
  if (Crc32(body) != static_cast<uint32_t>(crc)) {
    return DataLoss("manifest body does not match its checksum (crc32 " + Hex32(Crc32(body)) +
                    ", header says " + Hex32(static_cast<uint32_t>(crc)) + ")");
  }
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return DataLoss("manifest body is not a JSON object");

  constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
  constexpr int kMaxInt = std::numeric_limits<int>::max();
  Manifest m;
  Fields f(j);
  RT_RETURN_IF_ERROR(f.GetInt("formatVersion", kFormatVersion, kFormatVersion, &m.format_version));
  RT_RETURN_IF_ERROR(f.Get("job", &m.job));
  RT_RETURN_IF_ERROR(f.Get("step", 0, kMaxI64, &m.step));
  int64_t sequence = 0;
  RT_RETURN_IF_ERROR(f.Get("sequence", 0, kMaxI64, &sequence));
  m.sequence = static_cast<uint64_t>(sequence);
  RT_RETURN_IF_ERROR(f.Get("final", &m.final));
  RT_RETURN_IF_ERROR(f.Get("createdUnixMs", 0, kMaxI64, &m.created_unix_ms));
  const json* server = f.Find("server");
  if (server == nullptr || !server->is_object()) return f.Bad("server", "an object");
  RT_RETURN_IF_ERROR(Fields(*server).GetInt("index", 0, kMaxInt, &m.server_index));
  const json* ring = f.Find("ring");
  if (ring == nullptr || !ring->is_array() || ring->empty()) {
    return f.Bad("ring", "a non-empty list of server ids");
  }
  for (const json& s : *ring) {
    if (!s.is_string()) return f.Bad("ring", "a list of strings");
    m.ring_servers.push_back(s.get<std::string>());
  }
  if (m.server_index >= static_cast<int>(m.ring_servers.size())) {
    return f.Bad("server.index", "an index into \"ring\"");
  }
  RT_RETURN_IF_ERROR(f.GetFingerprint("layoutFingerprint", &m.layout_fingerprint));
  RT_RETURN_IF_ERROR(f.GetFingerprint("modelFingerprint", &m.model_fingerprint));
  RT_RETURN_IF_ERROR(f.Get("syncMode", &m.sync_mode));
  const json* optimizer = f.Find("optimizer");
  if (optimizer == nullptr || !optimizer->is_object()) return f.Bad("optimizer", "an object");
  RT_RETURN_IF_ERROR(Fields(*optimizer).Get("kind", &m.optimizer));
  RT_RETURN_IF_ERROR(Fields(*optimizer).GetInt("stateSlots", 0, 16, &m.state_slots));
  RT_RETURN_IF_ERROR(f.GetInt("workers", 1, kMaxInt, &m.num_workers));
  RT_RETURN_IF_ERROR(f.Get("partitions", 0, kMaxI64, &m.num_partitions));
  RT_RETURN_IF_ERROR(f.Get("elements", 0, kMaxI64, &m.num_elements));
  const json* files = f.Find("files");
  if (files == nullptr || !files->is_array()) return f.Bad("files", "a list");
  for (const json& entry : *files) {
    if (!entry.is_object()) return f.Bad("files", "a list of objects");
    Fields e(entry);
    FileEntry fe;
    RT_RETURN_IF_ERROR(e.Get("name", &fe.name));
    if (!ValidFileName(fe.name)) return f.Bad("files[].name", "a plain file name");
    int64_t file_bytes = 0;
    RT_RETURN_IF_ERROR(e.Get("bytes", 0, kMaxI64, &file_bytes));
    fe.bytes = static_cast<uint64_t>(file_bytes);
    std::string hex;
    RT_RETURN_IF_ERROR(e.Get("crc32", &hex));
    uint64_t file_crc = 0;
    if (!ParseHex(hex, 8, &file_crc)) return f.Bad("files[].crc32", "8 hex digits");
    fe.crc32 = static_cast<uint32_t>(file_crc);
    for (const FileEntry& other : m.files) {
      if (other.name == fe.name) return f.Bad("files", "a list without duplicate names");
    }
    m.files.push_back(std::move(fe));
  }
  return m;
}

Status CheckMatches(const Manifest& m, const ShardIdentity& e) {
  const auto differ = [](const std::string& what, const std::string& theirs,
                         const std::string& ours) {
    return FailedPrecondition(what + ": the checkpoint's is " + theirs + ", this server's " + ours);
  };
  if (m.job != e.job)
    return differ("a checkpoint of another job", "\"" + m.job + "\"", "\"" + e.job + "\"");
  if (m.model_fingerprint != e.model_fingerprint) {
    return differ("a checkpoint of another model (model fingerprint)",
                  FingerprintHex(m.model_fingerprint), FingerprintHex(e.model_fingerprint));
  }
  if (m.server_index != e.server_index) {
    return differ("a checkpoint of another server", "ps index " + std::to_string(m.server_index),
                  std::to_string(e.server_index));
  }
  if (m.ring_servers != e.ring_servers) {
    const auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
      return "[" + s + "]";
    };
    return differ("another ring membership", join(m.ring_servers), join(e.ring_servers));
  }
  if (m.layout_fingerprint != e.layout_fingerprint) {
    return differ("another partition layout (layout fingerprint)",
                  FingerprintHex(m.layout_fingerprint), FingerprintHex(e.layout_fingerprint));
  }
  if (m.sync_mode != e.sync_mode) return differ("another sync mode", m.sync_mode, e.sync_mode);
  if (m.optimizer != e.optimizer || m.state_slots != e.state_slots) {
    return differ("another optimizer",
                  m.optimizer + " (" + std::to_string(m.state_slots) + " state slots)",
                  e.optimizer + " (" + std::to_string(e.state_slots) + ")");
  }
  if (m.num_workers != e.num_workers) {
    return differ("another number of workers", std::to_string(m.num_workers),
                  std::to_string(e.num_workers));
  }
  if (m.num_partitions != static_cast<int64_t>(e.partitions.size()) ||
      m.num_elements != e.num_elements()) {
    return differ("another shard size",
                  std::to_string(m.num_partitions) + " partitions of " +
                      std::to_string(m.num_elements) + " elements",
                  std::to_string(e.partitions.size()) + " of " + std::to_string(e.num_elements()));
  }
  return Status::Ok();
}

}  // namespace ringtrain::ckpt
