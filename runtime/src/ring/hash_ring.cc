#include "ringtrain/ring/hash_ring.h"

#include <algorithm>
#include <unordered_map>

#include "ringtrain/common/check.h"

namespace ringtrain::ring {

StatusOr<HashRing> HashRing::Make(std::vector<std::string> server_ids, int vnodes_per_server) {
  if (server_ids.empty()) return InvalidArgument("hash ring: the server list is empty");
  if (vnodes_per_server < 1 || vnodes_per_server > kMaxVnodesPerServer) {
    return InvalidArgument("hash ring: vnodes_per_server must be in [1, " +
                           std::to_string(kMaxVnodesPerServer) + "] (got " +
                           std::to_string(vnodes_per_server) + ")");
  }
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < server_ids.size(); ++i) {
    const std::string& id = server_ids[i];
    if (id.empty()) {
      return InvalidArgument("hash ring: servers[" + std::to_string(i) + "]: empty id");
    }
    auto [it, inserted] = seen.emplace(id, i);
    if (!inserted) {
      return InvalidArgument("hash ring: servers[" + std::to_string(i) + "]: duplicate id '" + id +
                             "' (also servers[" + std::to_string(it->second) + "])");
    }
  }

  std::vector<VNode> vnodes;
  vnodes.reserve(server_ids.size() * static_cast<size_t>(vnodes_per_server));
  for (size_t s = 0; s < server_ids.size(); ++s) {
    // The prefix "<id>#" is shared by all of a server's points; hash it once.
    Hasher prefix;
    prefix.AddBytes(server_ids[s]).AddBytes("#");
    for (int v = 0; v < vnodes_per_server; ++v) {
      Hasher h = prefix;
      vnodes.push_back({h.AddBytes(std::to_string(v)).Finish(), static_cast<int>(s)});
    }
  }
  // Ties are broken by id, not by list position, so that the owner of a key does not depend on
  // the order in which servers were listed.
  std::sort(vnodes.begin(), vnodes.end(), [&server_ids](const VNode& a, const VNode& b) {
    if (a.point != b.point) return a.point < b.point;
    return server_ids[a.server] < server_ids[b.server];
  });
  return HashRing(std::move(server_ids), vnodes_per_server, std::move(vnodes));
}

int HashRing::OwnerIndex(uint64_t key_hash) const {
  RT_CHECK(!vnodes_.empty());
  auto it = std::lower_bound(vnodes_.begin(), vnodes_.end(), key_hash,
                             [](const VNode& v, uint64_t h) { return v.point < h; });
  if (it == vnodes_.end()) it = vnodes_.begin();  // wrap around past 2^64-1
  return it->server;
}

}  // namespace ringtrain::ring
