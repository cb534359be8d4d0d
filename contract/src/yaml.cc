// The yaml-cpp adapter. yaml-cpp reports errors by throwing; every exception is caught here
// and turned into a Status with the 1-based position.
#include "ringtrain/job/yaml.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <system_error>

#include <unistd.h>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "ringtrain/common/input_file.h"
#include "ringtrain/job/parse.h"

namespace ringtrain::job {
namespace {

using nlohmann::json;

// A TrainingJob is tiny (the largest valid one has a few thousand nodes), and the parser's
// memory grows with the text: yaml-cpp keeps about 0.3 KB per node. So the text is bounded
// (1 MiB, what a Kubernetes ConfigMap, which carries the spec to pods, can hold), its events are
// counted by a streaming pass before any tree is built, and the tree after expanding aliases
// ("billion laughs": a small text referring to one anchor many times) is bounded again.
constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxEvents = 20'000;
constexpr size_t kMaxNodes = 100'000;
constexpr int kMaxDepth = 64;

constexpr char kTagStr[] = "tag:yaml.org,2002:str";
constexpr char kTagInt[] = "tag:yaml.org,2002:int";
constexpr char kTagFloat[] = "tag:yaml.org,2002:float";
constexpr char kTagBool[] = "tag:yaml.org,2002:bool";
constexpr char kTagNull[] = "tag:yaml.org,2002:null";
constexpr char kTagMap[] = "tag:yaml.org,2002:map";
constexpr char kTagSeq[] = "tag:yaml.org,2002:seq";

std::string Position(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ": ";
}

Status ErrorAt(const YAML::Mark& mark, const std::string& message) {
  return InvalidArgument(Position(mark) + message);
}

// YAML 1.2 core schema resolution of one plain scalar.
bool IsNullWord(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> AsBool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// Hand-written matchers: std::regex recurses per character and can exhaust the stack on long
// scalars.
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Consumes characters satisfying `pred` from s at *pos; returns how many.
template <typename Pred>
size_t Consume(const std::string& s, size_t* pos, Pred pred) {
  size_t start = *pos;
  while (*pos < s.size() && pred(s[*pos])) ++*pos;
  return *pos - start;
}

void ConsumeSign(const std::string& s, size_t* pos) {
  if (*pos < s.size() && (s[*pos] == '+' || s[*pos] == '-')) ++*pos;
}

// [-+]?[0-9]+
bool IsDecimalInt(const std::string& s) {
  size_t pos = 0;
  ConsumeSign(s, &pos);
  return Consume(s, &pos, IsDigit) > 0 && pos == s.size();
}

// 0o[0-7]+ or 0x[0-9a-fA-F]+: the base, or 0.
int PrefixedIntBase(const std::string& s) {
  if (s.size() < 3 || s[0] != '0') return 0;
  size_t pos = 2;
  if (s[1] == 'o') {
    Consume(s, &pos, [](char c) { return c >= '0' && c <= '7'; });
    return pos == s.size() ? 8 : 0;
  }
  if (s[1] == 'x') {
    Consume(s, &pos, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
    return pos == s.size() ? 16 : 0;
  }
  return 0;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsDecimalFloat(const std::string& s) {
  size_t pos = 0;
  ConsumeSign(s, &pos);
  size_t digits = Consume(s, &pos, IsDigit);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    digits += Consume(s, &pos, IsDigit);
  }
  if (digits == 0) return false;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    ConsumeSign(s, &pos);
    if (Consume(s, &pos, IsDigit) == 0) return false;
  }
  return pos == s.size();
}

std::optional<json> AsInt(const std::string& s) {
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (IsDecimalInt(s)) {
    if (*begin == '+') ++begin;
    int64_t i = 0;
    auto [p, ec] = std::from_chars(begin, end, i);
    if (ec == std::errc() && p == end) return json(i);
    uint64_t u = 0;
    auto [pu, ecu] = std::from_chars(begin, end, u);
    if (ecu == std::errc() && pu == end) return json(u);
    return json(std::strtod(s.c_str(), nullptr));  // beyond 64 bits
  }
  int base = PrefixedIntBase(s);
  if (base == 0) return std::nullopt;
  uint64_t u = 0;
  auto [p, ec] = std::from_chars(begin + 2, end, u, base);
  if (ec != std::errc() || p != end) return std::nullopt;  // beyond 64 bits: a string
  if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return json(static_cast<int64_t>(u));
  }
  return json(u);
}

std::optional<double> AsFloat(const std::string& s) {
  if (IsDecimalFloat(s)) return std::strtod(s.c_str(), nullptr);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (const char* inf : {".inf", ".Inf", ".INF"}) {
    if (s == inf || s == std::string("+") + inf) return kInf;
    if (s == std::string("-") + inf) return -kInf;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  return std::nullopt;
}

StatusOr<json> ConvertScalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  // "!" marks a quoted or block scalar: always a string.
  if (tag == "!" || tag == kTagStr) return json(text);
  const bool plain = tag == "?" || tag.empty();
  if ((plain || tag == kTagNull) && IsNullWord(text)) return json(nullptr);
  if (plain || tag == kTagBool) {
    if (std::optional<bool> b = AsBool(text)) return json(*b);
  }
  if (plain || tag == kTagInt || tag == kTagFloat) {
    if (std::optional<json> i = AsInt(text)) {
      if (tag == kTagFloat) return json(std::strtod(text.c_str(), nullptr));
      return *i;
    }
  }
  if (plain || tag == kTagFloat) {
    if (std::optional<double> f = AsFloat(text)) return json(*f);
  }
  if (plain) return json(text);
  if (tag == kTagNull || tag == kTagBool || tag == kTagInt || tag == kTagFloat) {
    return ErrorAt(node.Mark(), "\"" + text + "\" is not a valid " + tag.substr(18));
  }
  return ErrorAt(node.Mark(), "unsupported tag \"" + tag + "\"");
}

class Converter {
 public:
  StatusOr<json> Convert(const YAML::Node& node, int depth) {
    if (++nodes_ > kMaxNodes) {
      return ErrorAt(node.Mark(), "document too large (more than " + std::to_string(kMaxNodes) +
                                      " nodes after expanding aliases)");
    }
    if (depth > kMaxDepth) {
      return ErrorAt(node.Mark(), "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar:
        return ConvertScalar(node);
      case YAML::NodeType::Sequence:
        return ConvertSequence(node, depth);
      case YAML::NodeType::Map:
        return ConvertMap(node, depth);
    }
    return ErrorAt(node.Mark(), "unknown node type");
  }

 private:
  static Status CheckCollectionTag(const YAML::Node& node, const char* standard) {
    const std::string& tag = node.Tag();
    if (tag == "?" || tag == "!" || tag.empty() || tag == standard) return Status::Ok();
    return ErrorAt(node.Mark(), "unsupported tag \"" + tag + "\"");
  }

  StatusOr<json> ConvertSequence(const YAML::Node& node, int depth) {
    RT_RETURN_IF_ERROR(CheckCollectionTag(node, kTagSeq));
    json out = json::array();
    for (const YAML::Node& item : node) {
      RT_ASSIGN_OR_RETURN(json value, Convert(item, depth + 1));
      out.push_back(std::move(value));
    }
    return out;
  }

  StatusOr<json> ConvertMap(const YAML::Node& node, int depth) {
    RT_RETURN_IF_ERROR(CheckCollectionTag(node, kTagMap));
    json out = json::object();
    std::map<std::string, YAML::Mark> first_seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      // JSON object keys are strings; a null key (`~:` or `null:`) has no string form.
      if (key.IsNull()) return ErrorAt(key.Mark(), "mapping key must not be null");
      if (!key.IsScalar()) return ErrorAt(key.Mark(), "mapping keys must be scalars");
      const std::string& name = key.Scalar();
      auto [it, inserted] = first_seen.emplace(name, key.Mark());
      if (!inserted) {
        std::string message = "duplicate key \"" + name + "\"";
        if (!it->second.is_null()) {
          message += " (first at line " + std::to_string(it->second.line + 1) + ")";
        }
        return ErrorAt(key.Mark(), message);
      }
      RT_ASSIGN_OR_RETURN(json value, Convert(entry.second, depth + 1));
      out[name] = std::move(value);
    }
    return out;
  }

  size_t nodes_ = 0;
};

// Counts the events of a document stream without building it; throws Limit past the bounds.
class EventCounter : public YAML::EventHandler {
 public:
  struct Limit {
    YAML::Mark mark;
    std::string message;
  };

  void OnDocumentStart(const YAML::Mark& mark) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Count(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Count(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Count(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Open(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Open(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void Count(const YAML::Mark& mark) {
    if (++events_ > kMaxEvents) {
      throw Limit{mark, "document too large (more than " + std::to_string(kMaxEvents) +
                            " nodes; a TrainingJob has a few thousand at most)"};
    }
  }
  void Open(const YAML::Mark& mark) {
    Count(mark);
    if (++depth_ > kMaxDepth) {
      throw Limit{mark, "nesting deeper than " + std::to_string(kMaxDepth) + " levels"};
    }
  }

  size_t events_ = 0;
  int depth_ = 0;
};

// Streams through `text` and fails past the bounds, before a tree costs memory.
Status CheckBounds(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  EventCounter counter;
  try {
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const EventCounter::Limit& limit) {
    return ErrorAt(limit.mark, limit.message);
  } catch (const YAML::Exception& e) {
    return ErrorAt(e.mark, e.msg);
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  return Status::Ok();
}

StatusOr<std::string> ReadFile(const std::string& path) {
  RT_ASSIGN_OR_RETURN(InputFile file, OpenInputFile(path));
  const std::string too_large = path + ": file is larger than " + std::to_string(kMaxFileBytes) +
                                " bytes (1 MiB, what a ConfigMap holds; a TrainingJob is a few KB)";
  if (file.size() > kMaxFileBytes) return InvalidArgument(too_large);
  std::string text(kMaxFileBytes + 1, '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(file.fd(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return NotFound(path + ": cannot read file (" +
                      std::error_code(errno, std::generic_category()).message() + ")");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done > kMaxFileBytes) return InvalidArgument(too_large);  // it grew since it was opened
  text.resize(done);
  return text;
}

}  // namespace

StatusOr<json> YamlToJson(std::string_view text) {
  const std::string owned(text);
  RT_RETURN_IF_ERROR(CheckBounds(owned));
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(owned);
  } catch (const YAML::Exception& e) {
    return ErrorAt(e.mark, e.msg);
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  if (docs.empty()) return json(nullptr);
  if (docs.size() > 1) {
    // yaml-cpp also splits some malformed input (a sequence followed by a mapping) into
    // documents, so say where the second one starts.
    std::string where;
    if (!docs[1].Mark().is_null()) {
      where = " (the second starts at line " + std::to_string(docs[1].Mark().line + 1) +
              ", column " + std::to_string(docs[1].Mark().column + 1) + ")";
    }
    return InvalidArgument("expected one YAML document, found " + std::to_string(docs.size()) +
                           where);
  }
  // Iterating nodes does not throw for well-formed trees, but yaml-cpp documents no guarantee.
  try {
    return Converter().Convert(docs[0], 0);
  } catch (const YAML::Exception& e) {
    return ErrorAt(e.mark, e.msg);
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
}

StatusOr<TrainingJob> LoadTrainingJobFile(const std::string& path) {
  RT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  StatusOr<json> doc = YamlToJson(text);
  if (!doc.ok()) return doc.status().WithContext(path);
  StatusOr<TrainingJob> job = ParseTrainingJob(*doc);
  if (!job.ok()) return job.status().WithContext(path);
  return job;
}

}  // namespace ringtrain::job
