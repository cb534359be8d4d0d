// Stable 64-bit hashing for partition placement, table fingerprints and the operator's spec hash.
//
// Hash64(bytes) = Fmix64(Fnv1a64(bytes)):
//   * Fnv1a64: FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3), over the
//     bytes in order;
//   * Fmix64: MurmurHash3's 64-bit finaliser. FNV-1a alone leaves keys that differ only in their
//     last characters ("ps-0#1", "ps-0#2") close together in the high bits; the finaliser
//     spreads them over the whole range. It is a bijection, so it adds no collisions.
// The value depends only on the bytes (never on the platform, compiler, process or std::hash),
// so every process computes the same placement. It is therefore part of the protocol between
// peers: changing it moves every partition and changes every fingerprint.
//
// Hasher streams the same function over several pieces: Hasher().AddBytes(a).AddBytes(b).Finish()
// == Hash64(a + b). AddU64/AddI64 feed 8 bytes little-endian (independent of host byte order);
// AddString feeds the length first so that a sequence of strings hashes unambiguously.
//
// Thread-safety: pure functions; a Hasher is a value used by one thread at a time.
#ifndef RINGTRAIN_COMMON_HASH_H_
#define RINGTRAIN_COMMON_HASH_H_

#include <cstdint>
#include <string_view>

namespace ringtrain {

inline constexpr uint64_t kFnv64OffsetBasis = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnv64Prime = 0x100000001b3ULL;

// Continues an FNV-1a 64 state over `bytes`.
constexpr uint64_t Fnv1a64Update(uint64_t state, std::string_view bytes) {
  for (char c : bytes) {
    state ^= static_cast<uint8_t>(c);
    state *= kFnv64Prime;
  }
  return state;
}

constexpr uint64_t Fnv1a64(std::string_view bytes) {
  return Fnv1a64Update(kFnv64OffsetBasis, bytes);
}

// MurmurHash3 fmix64.
constexpr uint64_t Fmix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

constexpr uint64_t Hash64(std::string_view bytes) { return Fmix64(Fnv1a64(bytes)); }

// Maps a uniformly distributed 64-bit `x` to [0, n) without a division: the high 64 bits of
// x * n (Lemire's "fast range"); it reads x's high bits, so callers feed it a mixed hash.
constexpr uint64_t ScaleToRange(uint64_t x, uint64_t n) {
  __extension__ typedef unsigned __int128 U128;
  return static_cast<uint64_t>((static_cast<U128>(x) * n) >> 64);
}

class Hasher {
 public:
  constexpr Hasher& AddBytes(std::string_view bytes) {
    state_ = Fnv1a64Update(state_, bytes);
    return *this;
  }
  constexpr Hasher& AddU64(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      state_ ^= (v >> (8 * i)) & 0xffu;
      state_ *= kFnv64Prime;
    }
    return *this;
  }
  constexpr Hasher& AddI64(int64_t v) { return AddU64(static_cast<uint64_t>(v)); }
  constexpr Hasher& AddString(std::string_view s) {
    AddU64(s.size());
    return AddBytes(s);
  }
  constexpr uint64_t Finish() const { return Fmix64(state_); }

 private:
  uint64_t state_ = kFnv64OffsetBasis;
};

}  // namespace ringtrain

#endif  // RINGTRAIN_COMMON_HASH_H_
