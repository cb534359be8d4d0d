// LocalStore: objects as files on the local file system (a path, a directory, or a glob on
// the last component). A directory lists its regular files recursively; hidden files (a name
// starting with '.') and anything that is not a regular file are skipped there, while naming
// a FIFO, device or socket directly is InvalidArgument (common/input_file.h: never waits on
// one). Put writes a temporary file beside the target and renames it into place.
//
// Thread-safety: any number of threads.
#ifndef RINGTRAIN_STORAGE_LOCAL_STORE_H_
#define RINGTRAIN_STORAGE_LOCAL_STORE_H_

#include <memory>

#include "ringtrain/storage/object_store.h"

namespace ringtrain::storage {

std::unique_ptr<ObjectStore> MakeLocalStore();

}  // namespace ringtrain::storage

#endif  // RINGTRAIN_STORAGE_LOCAL_STORE_H_
