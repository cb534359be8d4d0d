// What libprotobuf would print to stderr, made ringtrain's own.
//
// libprotobuf logs some parse failures itself ("String field 'ringtrain.Header.job' contains
// invalid UTF-8 data when parsing a protocol buffer..."), so a peer sending garbage could write
// to a server's stderr at will. The receivers already drop and count such messages
// (transport/message.h), so parse failures are silenced; any other library message is printed
// as "<program>: protobuf <level>: <message>", control bytes escaped.
//
// Thread-safety: call once at the start of main, before any other thread (libprotobuf's
// SetLogHandler is process-wide and not thread-safe).
#ifndef RINGTRAIN_PROTO_LIBRARY_LOG_H_
#define RINGTRAIN_PROTO_LIBRARY_LOG_H_

namespace ringtrain::proto {

// `program` ("ringtrain", "ringtrain-operator") must outlive the process (a literal).
void InstallLibraryLogHandler(const char* program);

}  // namespace ringtrain::proto

#endif  // RINGTRAIN_PROTO_LIBRARY_LOG_H_
