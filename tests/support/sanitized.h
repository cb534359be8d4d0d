// Whether this test binary (and so the ringtrain binary of its tree) is built with a sanitizer:
// tests that train for real pick shorter runs there, where training is several times slower.
#ifndef RINGTRAIN_TESTS_SUPPORT_SANITIZED_H_
#define RINGTRAIN_TESTS_SUPPORT_SANITIZED_H_

// GCC says __SANITIZE_ADDRESS__; clang says __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RINGTRAIN_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RINGTRAIN_TEST_SANITIZED 1
#endif
#endif

// Not in ringtrain::testing: a test of namespace ringtrain::<area> that includes this header
// must still reach GoogleTest's testing:: unqualified.
namespace ringtrain::test_build {

#if defined(RINGTRAIN_TEST_SANITIZED)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace ringtrain::test_build

#endif  // RINGTRAIN_TESTS_SUPPORT_SANITIZED_H_
