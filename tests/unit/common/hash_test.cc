#include "ringtrain/common/hash.h"

#include <string>

#include <gtest/gtest.h>

namespace ringtrain {
namespace {

// Expected values were computed independently (a few lines of Python over the same
// definitions); FNV-1a values for "", "a" and "foobar" are the published test vectors.
// If one of these changes, every deployed placement and fingerprint changes with it.
TEST(HashTest, Fnv1a64MatchesPublishedVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(HashTest, Fmix64MatchesReference) {
  EXPECT_EQ(Fmix64(0), 0u);
  EXPECT_EQ(Fmix64(1), 0xb456bcfc34c2cb2cULL);
  EXPECT_EQ(Fmix64(~0ULL), 0x64b5720b4b825f21ULL);
}

TEST(HashTest, Hash64FixedValues) {
  EXPECT_EQ(Hash64(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(Hash64("a"), 0x82a2a958a9bece5bULL);
  EXPECT_EQ(Hash64("foobar"), 0x2c22194922d1672bULL);
  EXPECT_EQ(Hash64("ps-0#0"), 0x03631c183e7c618fULL);
  EXPECT_EQ(Hash64("layer0/w/0"), 0xf3c494d56a54ba88ULL);
  static_assert(Hash64("a") == 0x82a2a958a9bece5bULL, "usable at compile time");
}

TEST(HashTest, BytesAreHashedNotCStrings) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Hash64(with_nul), Hash64("a"));
  EXPECT_NE(Hash64(with_nul), Hash64(std::string("a\0c", 3)));
}

TEST(HashTest, HasherStreamsTheSameFunction) {
  EXPECT_EQ(Hasher().Finish(), Hash64(""));
  EXPECT_EQ(Hasher().AddBytes("foo").AddBytes("bar").Finish(), Hash64("foobar"));
  // AddString("ab") = u64 LE length 2, then "ab"; AddI64(-1) = eight 0xff bytes.
  EXPECT_EQ(Hasher().AddString("ab").AddI64(-1).Finish(), 0x8e6f6b46d871e741ULL);
  const std::string le("\x02\0\0\0\0\0\0\0ab", 10);
  EXPECT_EQ(Hasher().AddString("ab").Finish(), Hash64(le));
}

TEST(HashTest, AddStringSeparatesSequences) {
  EXPECT_NE(Hasher().AddString("ab").AddString("c").Finish(),
            Hasher().AddString("a").AddString("bc").Finish());
}

TEST(HashTest, SimilarKeysSpreadOverTheHighBits) {
  // Without the finaliser, FNV-1a of "t/0".."t/255" share most of their top byte pattern.
  int top_bit_set = 0;
  for (int i = 0; i < 256; ++i) top_bit_set += (Hash64("t/" + std::to_string(i)) >> 63) & 1;
  EXPECT_GT(top_bit_set, 96);
  EXPECT_LT(top_bit_set, 160);
}

}  // namespace
}  // namespace ringtrain
