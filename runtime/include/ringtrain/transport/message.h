// A data-plane message: a Protobuf header (metadata only) plus raw payload frames.
//
// Tensor bytes never pass through Protobuf. Senders hand buffers to ZeroMQ without copying
// (SharedBuffer::Frame in shared_buffer.h keeps the buffer alive until libzmq releases the
// frame); receivers
// keep the received frames and read them in place (Eigen maps, or transport::CopyBulk into
// their state).
//
// DecodeMessage checks the structure every receiver relies on — wire version, message kind,
// the codec (parsed once into Message::codec), one payload frame per listed partition for the
// kinds that carry payloads (CarriesPayload, message_kind.h), and every frame's size against
// the codec and element count (CheckPayloadSize); a PULL_REPLY's partition may instead be in
// the server's shared memory (PartitionSlice.shared, transport/shared_segment.h), a CODEC_NONE
// PUSH's in the worker's: then no frame, and its bytes must lie inside the segment
// Header.segment describes, at an aligned offset; and for
// the sparse slices (Header.sparse) of a PUSH, PULL or PULL_REPLY their frames
// (SparseFramesPerSlice), each exactly num_keys uint64 or num_keys x dim float32 (a PUSH's values
// as its slice's value_codec says: fp16 or int8, whose contents DecodeSparseValues checks and
// decodes), within kMaxSparseKeys and kMaxSparseValues — before anyone touches the bytes. Whether
// keys are ascending, in range and owned is the receiver's to check. The contents of encoded frames
// are the receiver's to validate, once, after its own checks (compress::ValidatePayload, whose
// result is the only input the decoders take). Semantic checks (job name, partition ownership and
// sizes against the partition table) belong to the receiver.
#ifndef RINGTRAIN_TRANSPORT_MESSAGE_H_
#define RINGTRAIN_TRANSPORT_MESSAGE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/status.h"
#include "ringtrain/compress/codec.h"
#include "ringtrain/proto/ringtrain.pb.h"
#include "ringtrain/transport/message_kind.h"
#include "ringtrain/transport/shared_segment.h"
#include "ringtrain/transport/stream_link.h"

namespace ringtrain::transport {

// Largest partition a message may describe, in elements (keeps size arithmetic far from
// overflow and bounds what a malformed header can make a receiver expect).
inline constexpr uint64_t kMaxPartitionElements = uint64_t{1} << 32;

// Largest header frame a receiver parses; larger ones are dropped unread.
inline constexpr size_t kMaxHeaderBytes = 64 * 1024;

// A frame holding a copy of `count` floats at `data`.
zmq::message_t CopyFrame(const float* data, size_t count);

// The codec a message's header describes (Header.codec, and Header.codec_block for CODEC_INT8
// and CODEC_ONEBIT; block 0 for the others), or InvalidArgument for an unknown codec or a block
// outside [1, compress::kMaxBlock]. DecodeMessage calls it once per message and keeps the result
// in Message::codec; receivers use that instead of parsing the header again.
StatusOr<compress::CodecSpec> CodecOf(const proto::Header& header);

// Sets Header.codec and Header.codec_block (for kInt8 and kOneBit; cleared otherwise).
void SetCodec(const compress::CodecSpec& spec, proto::Header* header);

// The proto enum value of a codec type.
proto::Codec ToProto(compress::CodecType type);

// OK when a payload of `payload_bytes` is a possible size for `num_elements` under `codec`:
// exactly compress::EncodedSize for the fixed-size codecs; for top-k a whole number of pairs
// (compress::TopKPairBytes), at least one (if num_elements > 0) and at most num_elements.
// InvalidArgument otherwise, or for an element count above kMaxPartitionElements. Reads no
// payload: it checks what a header claims, so that no receiver indexes a frame the header
// misdescribes.
// REQUIRES: codec came from CodecOf (a known type; a valid block for kInt8 and kOneBit).
Status CheckPayloadSize(const compress::CodecSpec& codec, uint64_t num_elements,
                        uint64_t payload_bytes);

struct Message {
  proto::Header header;
  compress::CodecSpec codec;  // CodecOf(header), parsed once by DecodeMessage
  // payloads[i] carries header.partitions(i); empty for a partition in shared memory
  // (PartitionSlice.shared: a PULL_REPLY's or a PUSH's, read from the segment Header.segment
  // names).
  std::vector<zmq::message_t> payloads;
  // The frames of header.sparse, in order (SparseFramesPerSlice(kind) per slice), aligned for
  // their element type.
  std::vector<zmq::message_t> sparse;

  // The payload of partition entry i read as floats, in place. DecodeMessage guarantees the
  // frames of a CODEC_NONE message other than a PULL_REPLY are float-aligned (copying a
  // misaligned one: small frames, which libzmq hands out inside its receive buffer at whatever
  // offset the framing left them). A PULL_REPLY's are left where they are: its receiver copies
  // them out as Bytes.
  // REQUIRES: header.codec() == CODEC_NONE, i < payloads.size(), frame i float-aligned (checked).
  std::span<const float> Floats(size_t i) const;

  // The payload of partition entry i as bytes. REQUIRES: i < payloads.size().
  std::span<const uint8_t> Bytes(size_t i) const;

  // The keys of sparse slice i (PUSH, PULL), and its values (PUSH, PULL_REPLY), in place.
  // REQUIRES: a decoded message of such a kind; i < header.sparse_size().
  std::span<const uint64_t> SparseKeys(size_t i) const;
  // REQUIRES (values): the slice says CODEC_NONE (DecodeSparseValues has run).
  std::span<const float> SparseValues(size_t i) const;

  // Lets go of the frames, keeping the lists' storage: a receiver that decodes every message
  // into one Message calls it once the message is handled, so that libzmq gets back the
  // receive buffers small frames are slices of.
  void ReleaseFrames() {
    payloads.clear();
    sparse.clear();
  }
};

// True when a partition of the header is in shared memory (PartitionSlice.shared).
bool HasSharedPartitions(const proto::Header& header);

// A shared segment's wire form (Header.segment): its address and the sequence a reader is to
// check, and back.
void SetSegment(const SegmentAddress& address, uint64_t seq, proto::SharedSegment* out);
SegmentAddress AddressOf(const proto::SharedSegment& segment);

// Builds a Message from received frames: frames[0] is the serialized header and the rest are
// payloads. Consumes the frames. Returns DataLoss or InvalidArgument naming the first problem.
StatusOr<Message> DecodeMessage(std::vector<zmq::message_t> frames);

// The same into *out, reusing its storage: a receiver that decodes every message into one
// Message (its header's strings and partition list, its frame lists) allocates nothing for them
// once warm. Moves the frames out of `frames`. On an error *out holds no message (the next
// decode overwrites it).
Status DecodeMessage(std::span<zmq::message_t> frames, Message* out);

// Checks (compress::ValidatePayload) and decodes a decoded message's encoded sparse values (a
// PUSH's slices with value_codec fp16 or int8) to float32 in place; those slices then say
// CODEC_NONE, so a message forwarded on (to a backup) says what its frames are. A receiver calls
// it after its own checks (the sender's authorization: decoding allocates up to 4x the frame),
// before reading the values. InvalidArgument naming the slice when the bytes do not decode (a
// non-finite int8 scale); nothing else can fail (DecodeMessage checked the codec and sizes).
[[nodiscard]] Status DecodeSparseValues(Message* msg);

// Sends [identity?][header][payloads...] without blocking. `identity` is the peer's routing id
// for ROUTER sockets and nullptr otherwise. Fills header.wire_version. Returns Unavailable when
// the peer is unknown (ROUTER_MANDATORY) or the message cannot be queued; the payloads are
// consumed either way. Counts bytes sent into *bytes_sent when non-null.
Status SendMessage(zmq::socket_t& socket, const std::string* identity, proto::Header header,
                   std::vector<zmq::message_t> payloads, uint64_t* bytes_sent = nullptr);

// The same, leaving *header as it was but for wire_version (a sender that reuses one header, or
// keeps it, copies none), and consuming the frames of `payloads`.
Status SendMessage(zmq::socket_t& socket, const std::string* identity, proto::Header* header,
                   std::span<zmq::message_t> payloads, uint64_t* bytes_sent = nullptr);

// The same over a direct link (transport/stream_link.h): [header][payloads...] as one message
// (no identity: a link has one peer). Fills header->wire_version and leaves the header as it
// was otherwise, so that a caller may send it another way when this fails (Unavailable: the
// link is broken). Counts bytes sent into *bytes_sent when non-null.
Status SendMessage(StreamLink& link, proto::Header* header,
                   std::span<const zmq::message_t> payloads, uint64_t* bytes_sent = nullptr);

// Receives one whole multipart message if one is queued (never blocks). Returns false in
// *received when none was waiting. With `wait`, waits for one up to the socket's ZMQ_RCVTIMEO
// (libzmq's own wait: it looks at the queue, then sleeps on the socket's signal, with fewer
// system calls than zmq_poll followed by a receive); false in *received when none came by then
// or a signal interrupted the wait. The caller sets ZMQ_RCVTIMEO: libzmq's default (-1) waits
// for ever.
Status ReceiveMultipart(zmq::socket_t& socket, std::vector<zmq::message_t>* frames, bool* received,
                        bool wait = false);

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_MESSAGE_H_
