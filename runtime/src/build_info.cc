#include "ringtrain/build_info.h"

namespace ringtrain {

const char* Version() { return RINGTRAIN_VERSION; }

}  // namespace ringtrain
