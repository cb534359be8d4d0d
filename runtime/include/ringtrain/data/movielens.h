// MovieLens-100k as a click-through data set: `ringtrain prepare movielens` joins the three
// typed TSV files RecBole ships (ml-100k.inter, ml-100k.user, ml-100k.item: a header of
// "name:type" columns, then tab-separated rows) into one CSV per split, which a TrainingJob reads
// with format csv and a feature schema (dataset.fields; see examples/movielens-fm.yaml).
//
// Each rating (user_id, item_id, rating, timestamp) becomes one row:
//   label       1 when rating >= 4, else 0
//   user        user_id                    item        item_id
//   age         the user's age (a number)  gender      M or F
//   occupation  the user's occupation      zip         the first 2 characters of the zip code
//   genres      the item's classes, joined by '|' (multi-valued)
//   year        the item's release year (empty when it is not a 4-digit year: unknown)
// Split, fixed and independent of file order: a rating goes to test.csv when
// ScaleToRange(Hash64("<user_id>:<item_id>"), 5) == 0 (common/hash.h; about 20% of them), to
// train.csv otherwise. Rows keep the order of ml-100k.inter.
//
// Errors: NotFound / IoError naming a file that cannot be read or written; InvalidArgument
// "<file>:<line>: ..." for a header without the columns above, a row with too few cells, a
// rating that is not a number, a user or item the other files do not have, or a value holding a
// comma or a quote (which the CSV cannot carry).
//
// Thread-safety: a function.
#ifndef RINGTRAIN_DATA_MOVIELENS_H_
#define RINGTRAIN_DATA_MOVIELENS_H_

#include <cstdint>
#include <string>

#include "ringtrain/common/status.h"

namespace ringtrain::data {

struct MovieLensReport {
  int64_t train_rows = 0;
  int64_t test_rows = 0;
  double train_positive_rate = 0;  // the share of label 1
  double test_positive_rate = 0;
  int64_t users = 0;
  int64_t items = 0;
};

// Reads <from_dir>/ml-100k.{inter,user,item}; writes <out_dir>/train.csv and test.csv
// (creating out_dir).
[[nodiscard]] StatusOr<MovieLensReport> PrepareMovieLens(const std::string& from_dir,
                                                         const std::string& out_dir);

}  // namespace ringtrain::data

#endif  // RINGTRAIN_DATA_MOVIELENS_H_
