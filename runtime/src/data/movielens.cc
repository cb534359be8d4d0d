#include "ringtrain/data/movielens.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ringtrain/common/hash.h"

namespace ringtrain::data {
namespace {

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t pos = 0;
  while (true) {
    const size_t tab = line.find('\t', pos);
    cells.push_back(line.substr(pos, tab == std::string_view::npos ? line.npos : tab - pos));
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
  }
  return cells;
}

// One typed TSV file: its header's columns by name (the part before ':'), and its rows handed
// to `row` with their line numbers.
class TypedTsv {
 public:
  TypedTsv(std::string path, std::vector<std::string> wanted)
      : path_(std::move(path)), wanted_(std::move(wanted)) {}

  // Calls row(cells of the wanted columns, in `wanted` order, where) for every data line.
  Status ForEachRow(
      const std::function<Status(const std::vector<std::string_view>&, const std::string&)>& row) {
    std::ifstream in(path_);
    if (!in) return NotFound(path_ + ": cannot be read");
    std::string line;
    int64_t number = 0;
    std::vector<size_t> index;
    std::vector<std::string_view> picked;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string where = path_ + ":" + std::to_string(number);
      const std::vector<std::string_view> cells = SplitTabs(line);
      if (number == 1) {
        for (const std::string& name : wanted_) {
          size_t found = cells.size();
          for (size_t c = 0; c < cells.size(); ++c) {
            if (cells[c].substr(0, cells[c].find(':')) == name) found = c;
          }
          if (found == cells.size()) {
            return InvalidArgument(where + ": the header has no column " + name);
          }
          index.push_back(found);
        }
        continue;
      }
      if (line.empty()) continue;
      picked.clear();
      for (size_t i = 0; i < index.size(); ++i) {
        if (index[i] >= cells.size()) {
          return InvalidArgument(where + ": " + std::to_string(cells.size()) +
                                 " cells, no column " + wanted_[i]);
        }
        const std::string_view cell = cells[index[i]];
        if (cell.find_first_of(",\"") != std::string_view::npos) {
          return InvalidArgument(where + ": column " + wanted_[i] +
                                 " holds a comma or a quote, which the CSV cannot carry");
        }
        picked.push_back(cell);
      }
      RT_RETURN_IF_ERROR(row(picked, where));
    }
    if (in.bad()) return Internal(path_ + ": read failed");
    if (number == 0) return InvalidArgument(path_ + ": empty (no header)");
    return Status::Ok();
  }

 private:
  std::string path_;
  std::vector<std::string> wanted_;
};

struct User {
  std::string age, gender, occupation, zip;
};
struct Item {
  std::string genres, year;
};

class CsvOut {
 public:
  explicit CsvOut(std::string path) : path_(std::move(path)), out_(path_) {}
  bool ok() const { return static_cast<bool>(out_); }
  const std::string& path() const { return path_; }
  std::ofstream& stream() { return out_; }
  Status Close() {
    out_.close();
    if (!out_) return Internal(path_ + ": write failed");
    return Status::Ok();
  }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace

StatusOr<MovieLensReport> PrepareMovieLens(const std::string& from_dir,
                                           const std::string& out_dir) {
  const std::filesystem::path from(from_dir);
  std::unordered_map<std::string, User> users;
  TypedTsv user_file((from / "ml-100k.user").string(),
                     {"user_id", "age", "gender", "occupation", "zip_code"});
  RT_RETURN_IF_ERROR(user_file.ForEachRow([&](const auto& c, const std::string& where) -> Status {
    const User user{std::string(c[1]), std::string(c[2]), std::string(c[3]),
                    std::string(c[4].substr(0, 2))};
    if (!users.emplace(std::string(c[0]), user).second) {
      return InvalidArgument(where + ": user " + std::string(c[0]) + " again");
    }
    return Status::Ok();
  }));
  std::unordered_map<std::string, Item> items;
  TypedTsv item_file((from / "ml-100k.item").string(), {"item_id", "release_year", "class"});
  RT_RETURN_IF_ERROR(item_file.ForEachRow([&](const auto& c, const std::string& where) -> Status {
    // The year when it is one: RecBole's file spells an unknown one "unkonwn".
    const std::string_view year = c[1];
    const bool is_year = year.size() == 4 && year.find_first_not_of("0123456789") == year.npos;
    Item item{"", is_year ? std::string(year) : std::string()};
    // Genres are separated by spaces; none holds one ("Children's", "Film-Noir", "Sci-Fi").
    size_t pos = 0;
    const std::string_view genres = c[2];
    while (pos < genres.size()) {
      const size_t space = std::min(genres.find(' ', pos), genres.size());
      if (space > pos) {
        if (!item.genres.empty()) item.genres += '|';
        item.genres += genres.substr(pos, space - pos);
      }
      pos = space + 1;
    }
    if (!items.emplace(std::string(c[0]), item).second) {
      return InvalidArgument(where + ": item " + std::string(c[0]) + " again");
    }
    return Status::Ok();
  }));

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Internal(out_dir + ": cannot be created: " + ec.message());
  CsvOut train((std::filesystem::path(out_dir) / "train.csv").string());
  CsvOut test((std::filesystem::path(out_dir) / "test.csv").string());
  for (CsvOut* out : {&train, &test}) {
    if (!out->ok()) return Internal(out->path() + ": cannot be written");
    out->stream() << "label,user,item,age,gender,occupation,zip,genres,year\n";
  }
  MovieLensReport report;
  int64_t train_positive = 0;
  int64_t test_positive = 0;
  TypedTsv inter_file((from / "ml-100k.inter").string(), {"user_id", "item_id", "rating"});
  RT_RETURN_IF_ERROR(inter_file.ForEachRow([&](const auto& c, const std::string& where) -> Status {
    const auto user = users.find(std::string(c[0]));
    if (user == users.end()) {
      return InvalidArgument(where + ": user " + std::string(c[0]) + " is not in ml-100k.user");
    }
    const auto item = items.find(std::string(c[1]));
    if (item == items.end()) {
      return InvalidArgument(where + ": item " + std::string(c[1]) + " is not in ml-100k.item");
    }
    double rating = 0;
    const auto [end, err] = std::from_chars(c[2].data(), c[2].data() + c[2].size(), rating);
    if (err != std::errc() || end != c[2].data() + c[2].size()) {
      return InvalidArgument(where + ": rating '" + std::string(c[2]) + "' is not a number");
    }
    const int label = rating >= 4 ? 1 : 0;
    const std::string pair = std::string(c[0]) + ":" + std::string(c[1]);
    const bool is_test = ScaleToRange(Hash64(pair), 5) == 0;
    CsvOut& out = is_test ? test : train;
    out.stream() << label << ',' << c[0] << ',' << c[1] << ',' << user->second.age << ','
                 << user->second.gender << ',' << user->second.occupation << ',' << user->second.zip
                 << ',' << item->second.genres << ',' << item->second.year << '\n';
    if (is_test) {
      ++report.test_rows;
      test_positive += label;
    } else {
      ++report.train_rows;
      train_positive += label;
    }
    return Status::Ok();
  }));
  RT_RETURN_IF_ERROR(train.Close());
  RT_RETURN_IF_ERROR(test.Close());
  report.users = static_cast<int64_t>(users.size());
  report.items = static_cast<int64_t>(items.size());
  if (report.train_rows > 0) {
    report.train_positive_rate =
        static_cast<double>(train_positive) / static_cast<double>(report.train_rows);
  }
  if (report.test_rows > 0) {
    report.test_positive_rate =
        static_cast<double>(test_positive) / static_cast<double>(report.test_rows);
  }
  return report;
}

}  // namespace ringtrain::data
