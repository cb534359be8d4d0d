#include "ringtrain/app/object_checkpoints.h"

#include <utility>

namespace ringtrain::app {

std::string JoinLocation(std::string_view base, std::string_view name) {
  std::string out(base);
  if (!out.empty() && !out.ends_with('/')) out += '/';
  out += name;
  return out;
}

StorageDirectory::StorageDirectory(std::shared_ptr<storage::Storage> storage, std::string base)
    : storage_(std::move(storage)), base_(std::move(base)) {
  if (!base_.ends_with('/')) base_ += '/';
}

StatusOr<std::vector<std::string>> StorageDirectory::List() {
  StatusOr<std::vector<storage::ObjectInfo>> found = storage_->List(base_);
  std::vector<std::string> names;
  if (found.status().code() == StatusCode::kNotFound) return names;  // nothing written yet
  if (!found.ok()) return found.status();
  for (const storage::ObjectInfo& object : *found) {
    if (object.uri.starts_with(base_)) names.push_back(object.uri.substr(base_.size()));
  }
  return names;
}

StatusOr<std::string> StorageDirectory::Get(const std::string& name, uint64_t max_bytes) {
  return storage_->Get(base_ + name, static_cast<size_t>(max_bytes));
}

Status StorageDirectory::Put(const std::string& name, std::string_view bytes) {
  return storage_->Put(base_ + name, bytes);
}

Status StorageDirectory::Delete(const std::string& name) { return storage_->Delete(base_ + name); }

Status DeleteObjectsBeneath(std::shared_ptr<storage::Storage> storage, const std::string& prefix) {
  StorageDirectory directory(std::move(storage), prefix);
  RT_ASSIGN_OR_RETURN(std::vector<std::string> names, directory.List());
  for (const std::string& name : names) RT_RETURN_IF_ERROR(directory.Delete(name));
  return Status::Ok();
}

}  // namespace ringtrain::app
