// Printable: control bytes from outside never reach a terminal raw.
#include "ringtrain/common/printable.h"

#include <gtest/gtest.h>

namespace ringtrain {
namespace {

TEST(PrintableTest, EscapesControlBytesAndKeepsText) {
  EXPECT_EQ(Printable("plain text, UTF-8 ✓"), "plain text, UTF-8 ✓");
  EXPECT_EQ(Printable("line one\n\tindented"), "line one\n\tindented");
  EXPECT_EQ(Printable("ab\x1b[31mred\x07"), "ab\\x1b[31mred\\x07");
  EXPECT_EQ(Printable(std::string("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_EQ(Printable("del\x7f\r"), "del\\x7f\\x0d");
  // C1 controls in UTF-8 (U+009B is a one-character CSI on some terminals).
  EXPECT_EQ(Printable("csi\xc2\x9b"
                      "2J"),
            "csi\\u009b2J");
  EXPECT_EQ(Printable("\xc2\xa0nbsp"), "\xc2\xa0nbsp");  // U+00A0 is text
  // Invalid UTF-8 passes unchanged (it cannot form an escape sequence), even a lone 0xc2.
  EXPECT_EQ(Printable("\xff\xfe\xc2"), "\xff\xfe\xc2");
}

}  // namespace
}  // namespace ringtrain
