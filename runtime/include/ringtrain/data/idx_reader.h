// LoadIdx: reads an image/label pair in the IDX format of MNIST and Fashion-MNIST.
//
// Both files may be gzip-compressed or raw; zlib tells them apart. The image file holds a
// big-endian header {magic 0x00000803 (uint8, 3 dimensions), count, rows, cols} followed by
// count*rows*cols pixel bytes; the label file {magic 0x00000801 (uint8, 1 dimension), count}
// followed by count label bytes. The result has count rows of rows*cols features, each
// pixel / 255.0f (so in [0, 1]), the labels, and num_classes.
//
// Errors (every message starts with the offending file's path):
//   NotFound            the file does not exist
//   FailedPrecondition  it exists but cannot be opened (no permission)
//   InvalidArgument     a directory, FIFO, device or socket (common/input_file.h: never waits
//                       on one); wrong magic (e.g. images and labels swapped); image and label
//                       counts differ (names both files); a label >= num_classes (names the record
//                       index); num_classes < 1
//   DataLoss            a header shorter than announced, a zero image dimension, fewer or more
//                       payload bytes than the header announces (states expected vs got), a
//                       corrupt or truncated gzip stream; a header announcing more than the file
//                       can hold (a raw file's size, or 1032 times a gzip file's: deflate's
//                       largest expansion), found from the header and the file's size alone
//
// Reads in large chunks; memory is proportional to the data actually present, so a corrupt
// header cannot make it allocate more. Thread-safety: may be called from several threads at once.
#ifndef RINGTRAIN_DATA_IDX_READER_H_
#define RINGTRAIN_DATA_IDX_READER_H_

#include <string>

#include "ringtrain/common/status.h"
#include "ringtrain/data/dataset.h"

namespace ringtrain::data {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;

// The shape an IDX images file announces, read from its header alone (cheap: servers size
// the model from it without loading the data). Same errors as LoadIdx for the header (including
// a header announcing more than the file can hold), and DataLoss for a zero count or image
// dimension.
struct IdxImagesShape {
  uint64_t count = 0;
  uint32_t rows = 0;
  uint32_t cols = 0;
};
[[nodiscard]] StatusOr<IdxImagesShape> ReadIdxImagesShape(const std::string& images_path);

[[nodiscard]] StatusOr<Dataset> LoadIdx(const std::string& images_path,
                                        const std::string& labels_path, int num_classes = 10);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_IDX_READER_H_
