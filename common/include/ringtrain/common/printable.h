// Printable: text from outside (spec values, file names, peers' messages) made safe to print on a
// terminal. Control bytes could otherwise move the cursor, recolour or clear the screen, or set
// the window title (ESC sequences), or ring the bell.
//
// C0 controls other than newline and tab, DEL, and the C1 controls encoded in UTF-8 (U+0080 to
// U+009F, which some terminals obey like ESC sequences) become \xNN escapes (C1 as \u00NN);
// everything else, valid or invalid UTF-8, passes unchanged. A backslash is left as it is, so
// the result is for reading, not for parsing back.
//
// Thread-safety: a pure function.
#ifndef RINGTRAIN_COMMON_PRINTABLE_H_
#define RINGTRAIN_COMMON_PRINTABLE_H_

#include <string>
#include <string_view>

namespace ringtrain {

std::string Printable(std::string_view text);

}  // namespace ringtrain

#endif  // RINGTRAIN_COMMON_PRINTABLE_H_
