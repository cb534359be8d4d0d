// CopyBulk: the copy of a payload's bytes on the per-step path (parameters into and out of
// shared memory, pushes read from it, a batch's rows gathered), at the same speed whatever the
// two addresses are.
//
// memcpy is not: glibc copies anything from ~2 KiB to ~1 MiB with `rep movsb`, which on some of
// AMD's Zen hosts runs at 1.5–3 GB/s instead of 25–60 when the destination is 1 to 31 bytes
// ahead of the source within a 64-byte line (measured on EPYC hosts this project ran on, at 3,
// 64 and 256 KiB for every 4 bytes of offset: bench/bulk_copy_bench.cc; 32 to 63 ahead, and
// from 1 MiB up, it is not slowed; other EPYC hosts show no slowdown, and there memcpy is up to
// 1.5x faster than the copies below). Such offsets are the rule here: a std::vector's storage
// starts 16 bytes into its page, Eigen's at 32, a shared segment's slots at 64, a received frame
// wherever libzmq put it. CopyBulk copies those 32 bytes at a time as bytes, whatever either
// address's alignment (internal::CopyInChunks: with AVX, unaligned loads and stores aligned on
// the destination; fixed-size memcpys without it), and every other offset with memcpy. The
// bytes written are the source's, bit for bit (no float is loaded: NaNs stay as they were).
//
// REQUIRES: the ranges do not overlap. Thread-safe (touches only its arguments).
#ifndef RINGTRAIN_TRANSPORT_BULK_COPY_H_
#define RINGTRAIN_TRANSPORT_BULK_COPY_H_

#include <cstddef>

namespace ringtrain::transport {

void CopyBulk(void* dst, const void* src, size_t bytes);

namespace internal {

// CopyBulk's copy when the destination is 1 to 31 bytes ahead within a line: 32 bytes at a time
// as bytes, when built with AVX and `vector_moves` up to the destination's first 32-byte
// boundary in one small copy and then with unaligned loads and aligned stores, else with
// fixed-size memcpys (what builds without AVX run); then the last 0 to 31 bytes. Here so that
// the tests run both paths in builds with AVX (without it, only the second exists).
// REQUIRES: the ranges do not overlap. Thread-safe (touches only its arguments).
void CopyInChunks(void* dst, const void* src, size_t bytes, bool vector_moves);

}  // namespace internal

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_BULK_COPY_H_
