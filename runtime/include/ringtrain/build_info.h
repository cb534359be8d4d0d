// Build information of the ringtrain binary.
#ifndef RINGTRAIN_BUILD_INFO_H_
#define RINGTRAIN_BUILD_INFO_H_

namespace ringtrain {

// The release version, e.g. "0.1.0".
const char* Version();

}  // namespace ringtrain

#endif  // RINGTRAIN_BUILD_INFO_H_
