// EnumTraits<E>::kValues must list every value of E: the parser accepts only those, and the
// CRD's enums are made from them. Name() is an exhaustive switch, so every enumerator has a
// name and a value past the last one has none ("?"); walking the range finds one left out.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ringtrain/job/spec.h"

namespace ringtrain::job {
namespace {

template <typename E>
void ExpectEveryValueListed() {
  const auto& values = EnumTraits<E>::kValues;
  int named = 0;
  for (int i = 0; i < 64; ++i) {
    if (std::string(Name(static_cast<E>(i))) == "?") break;
    ++named;
    EXPECT_NE(std::find(std::begin(values), std::end(values), static_cast<E>(i)), std::end(values))
        << Name(static_cast<E>(i)) << " is missing from EnumTraits";
  }
  EXPECT_EQ(named, static_cast<int>(std::size(values)));
}

TEST(EnumTraitsTest, ListEveryValue) {
  ExpectEveryValueListed<ModelType>();
  ExpectEveryValueListed<DataFormat>();
  ExpectEveryValueListed<Sharding>();
  ExpectEveryValueListed<OptimizerType>();
  ExpectEveryValueListed<ScheduleType>();
  ExpectEveryValueListed<CompressionType>();
  ExpectEveryValueListed<SyncMode>();
  ExpectEveryValueListed<RestartPolicy>();
  ExpectEveryValueListed<CleanPodPolicy>();
  ExpectEveryValueListed<Authentication>();
  ExpectEveryValueListed<FeatureType>();
  ExpectEveryValueListed<Combiner>();
}

}  // namespace
}  // namespace ringtrain::job
