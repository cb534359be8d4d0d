// CopyBulk: the copy of a payload's bytes on the per-step path (parameters into and out of
// shared memory, pushes read from it, a batch's rows gathered), at the same speed whatever the
// two addresses are.
//
// memcpy is not: glibc copies anything above ~2 KiB with `rep movsb`, which on AMD's Zen cores
// runs at a twelfth to a twenty-fifth of its speed when source and destination differ in their
// offset within a 64-byte line: 2.8–3.0 GB/s against 35–77 on this host's EPYC, from 3 KiB to
// 256 KiB at offsets 4, 8 or 16 apart (bench/bulk_copy_bench.cc; from 1 MiB up glibc copies
// otherwise and is not slowed). Such offsets are the rule here: a std::vector's storage starts
// 16 bytes into its page, Eigen's at 32, a shared segment's slots at 64, a received frame
// wherever libzmq put it. CopyBulk copies with Eigen's vector loads and stores (unaligned, 32
// bytes at a time with AVX) when both addresses are float-aligned at different offsets within a
// line, and with memcpy otherwise; the bytes written are the source's, bit for bit, NaNs
// included.
//
// REQUIRES: the ranges do not overlap. Thread-safe (touches only its arguments).
#ifndef RINGTRAIN_TRANSPORT_BULK_COPY_H_
#define RINGTRAIN_TRANSPORT_BULK_COPY_H_

#include <cstddef>

namespace ringtrain::transport {

void CopyBulk(void* dst, const void* src, size_t bytes);

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_BULK_COPY_H_
