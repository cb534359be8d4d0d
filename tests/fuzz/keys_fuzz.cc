// libFuzzer target: a job's public keys file as every process reads it (auth::ParseKeySet), and
// the same bytes as a secret key (auth::KeyPairFromSecret) and an identity name
// (auth::ParseIdentity). A set that parses formats back to text that parses to the same set.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ringtrain/auth/key_set.h"
#include "ringtrain/auth/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ringtrain::StatusOr<ringtrain::auth::KeySet> keys = ringtrain::auth::ParseKeySet(text, "fuzz");
  if (keys.ok()) {
    ringtrain::StatusOr<ringtrain::auth::KeySet> again =
        ringtrain::auth::ParseKeySet(ringtrain::auth::FormatKeySet(*keys), "again");
    if (!again.ok() || !(*again == *keys)) __builtin_trap();
  }
  (void)ringtrain::auth::KeyPairFromSecret(text);
  (void)ringtrain::auth::ParseIdentity(text);
  return 0;
}
