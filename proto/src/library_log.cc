#include "ringtrain/proto/library_log.h"

#include <google/protobuf/stubs/logging.h>

#include <iostream>
#include <string>

#include "ringtrain/common/printable.h"

namespace ringtrain::proto {
namespace {

const char* g_program = "ringtrain";  // set once in main, before threads start

const char* LevelName(google::protobuf::LogLevel level) {
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      return "info";
    case google::protobuf::LOGLEVEL_WARNING:
      return "warning";
    case google::protobuf::LOGLEVEL_ERROR:
      return "error";
    case google::protobuf::LOGLEVEL_FATAL:
      return "fatal";
  }
  return "log";
}

void Handle(google::protobuf::LogLevel level, const char* filename, int line,
            const std::string& message) {
  // The receivers count and drop what does not parse; the library's own words about it are
  // noise a peer controls.
  if (level != google::protobuf::LOGLEVEL_FATAL &&
      message.find("parsing a protocol buffer") != std::string::npos) {
    return;
  }
  std::cerr << g_program << ": protobuf " << LevelName(level) << ": " << Printable(message) << "\n";
}

}  // namespace

void InstallLibraryLogHandler(const char* program) {
  g_program = program;
  google::protobuf::SetLogHandler(&Handle);
}

}  // namespace ringtrain::proto
