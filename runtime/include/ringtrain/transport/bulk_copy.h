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
// wherever libzmq put it. CopyBulk copies those with Eigen's vector loads and stores (unaligned,
// 32 bytes at a time with AVX) when both addresses are float-aligned, and 32 bytes at a time as
// bytes when either is not (AVX's unaligned loads and stores; fixed-size memcpys without AVX);
// every other offset with memcpy. The bytes written are the source's, bit for bit, NaNs
// included.
//
// REQUIRES: the ranges do not overlap; their storage holds floats or raw bytes (it may be read
// as floats). Thread-safe (touches only its arguments).
#ifndef RINGTRAIN_TRANSPORT_BULK_COPY_H_
#define RINGTRAIN_TRANSPORT_BULK_COPY_H_

#include <cstddef>

namespace ringtrain::transport {

void CopyBulk(void* dst, const void* src, size_t bytes);

namespace internal {

// CopyBulk's copy when the destination is 1 to 31 bytes ahead within a line and an address is
// not float-aligned: 32 bytes at a time as bytes, with AVX's unaligned loads and stores when
// built with AVX and `vector_moves`, else with fixed-size memcpys (what builds without AVX
// run), then the last 0 to 31 bytes. Here so that the tests run both paths in builds with AVX
// (without it, only the second exists).
// REQUIRES: the ranges do not overlap. Thread-safe (touches only its arguments).
void CopyInChunks(void* dst, const void* src, size_t bytes, bool vector_moves);

}  // namespace internal

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_BULK_COPY_H_
