// WriteFileAtomically: replaces a file's contents all at once, as far as readers and crashes
// can tell.
//
// Thread-safety: safe to call from several threads, also for the same path (each call uses a
// temporary file of its own; the last rename wins).
#ifndef RINGTRAIN_EXPORT_SRC_ATOMIC_FILE_H_
#define RINGTRAIN_EXPORT_SRC_ATOMIC_FILE_H_

#include <string>
#include <string_view>

#include "ringtrain/common/status.h"

namespace ringtrain::exporter {

// Writes `bytes` to a new temporary file beside `path` ("<path>.tmp-<pid>-<n>"),
// fsyncs it, renames it over `path` and fsyncs the directory. On error the temporary file is
// removed and `path` is left as it was. Errors name the path and the system's reason: NotFound
// (no such directory), PermissionDenied, FailedPrecondition (anything else: a full disk, a
// directory in the way).
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace ringtrain::exporter

#endif  // RINGTRAIN_EXPORT_SRC_ATOMIC_FILE_H_
