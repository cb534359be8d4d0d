// RT_CHECK: aborts with a message when an invariant of the program itself is broken.
// Never use it for conditions that user input, the network or the file system can cause:
// those are returned as Status values.
#ifndef RINGTRAIN_COMMON_CHECK_H_
#define RINGTRAIN_COMMON_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define RT_CHECK(cond)                                                                    \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

#endif  // RINGTRAIN_COMMON_CHECK_H_
