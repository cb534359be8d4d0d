// The CRD is generated from the field table: the checked-in copies must be exactly what
// `ringtrain crd` prints, its YAML must read back as the object, and what `kubectl explain` and
// `kubectl get` show must exist (descriptions, printer-column paths).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ringtrain/job/crd.h"
#include "ringtrain/job/yaml.h"

namespace ringtrain::job {
namespace {

using ojson = nlohmann::ordered_json;

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(RINGTRAIN_SOURCE_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in) << relative;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const ojson& RootSchema(const ojson& crd) {
  return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
}

// Every property below `schema` (at `path`) without a description is appended to *missing.
void CollectUndocumented(const ojson& schema, const std::string& path,
                         std::vector<std::string>* missing) {
  if (schema.contains("properties")) {
    for (const auto& [name, child] : schema["properties"].items()) {
      const std::string child_path = path + "." + name;
      if (!child.contains("description")) missing->push_back(child_path);
      CollectUndocumented(child, child_path, missing);
    }
  }
  if (schema.contains("items")) CollectUndocumented(schema["items"], path + "[]", missing);
}

// "" when equal, else the first line that differs (the whole CRD would drown the message).
std::string FirstDifference(const std::string& file, const std::string& generated) {
  if (file == generated) return "";
  std::stringstream a(file), b(generated);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) return "they differ in line endings";
    if (la != lb || more_a != more_b) {
      return "line " + std::to_string(line) + ": file has \"" + (more_a ? la : "<end>") +
             "\", `ringtrain crd` prints \"" + (more_b ? lb : "<end>") + "\"";
    }
  }
}

TEST(CrdTest, CheckedInCopiesAreWhatTheCommandPrints) {
  const std::string generated = CustomResourceDefinitionYaml();
  for (const char* file : {"crds/ringtrain.io_trainingjobs.yaml",
                           "charts/ringtrain/crds/ringtrain.io_trainingjobs.yaml"}) {
    EXPECT_EQ(FirstDifference(ReadSource(file), generated), "")
        << file << " is not what `ringtrain crd` prints: run `make crd`";
  }
}

TEST(CrdTest, YamlReadsBackAsTheObject) {
  StatusOr<nlohmann::json> read = YamlToJson(CustomResourceDefinitionYaml());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, nlohmann::json::parse(CustomResourceDefinition().dump()));
}

TEST(CrdTest, EveryFieldOfSpecAndStatusIsDescribed) {
  const ojson crd = CustomResourceDefinition();
  const ojson& root = RootSchema(crd);
  std::vector<std::string> missing;
  CollectUndocumented(root["properties"]["spec"], "spec", &missing);
  CollectUndocumented(root["properties"]["status"], "status", &missing);
  // The items of status.handledFailures are UIDs; their array is described.
  std::erase(missing, "status.handledFailures[]");
  EXPECT_EQ(missing, std::vector<std::string>{});
}

TEST(CrdTest, PrinterColumnsNameFieldsOfTheSchema) {
  const ojson crd = CustomResourceDefinition();
  const ojson& root = RootSchema(crd);
  for (const ojson& column : crd["spec"]["versions"][0]["additionalPrinterColumns"]) {
    std::string path = column["jsonPath"].get<std::string>();
    SCOPED_TRACE(path);
    if (path == ".metadata.creationTimestamp") continue;  // the API server's own
    const ojson* schema = &root;
    std::stringstream parts(path.substr(1));
    for (std::string part; std::getline(parts, part, '.');) {
      ASSERT_TRUE(schema->contains("properties") && (*schema)["properties"].contains(part));
      schema = &(*schema)["properties"][part];
    }
    EXPECT_EQ((*schema)["type"], column["type"]);
  }
}

TEST(CrdTest, ConditionalFieldsHaveRulesAndNoDefaults) {
  const ojson crd = CustomResourceDefinition();
  const ojson& optimizer =
      RootSchema(crd)["properties"]["spec"]["properties"]["training"]["properties"]["optimizer"];
  EXPECT_FALSE(optimizer["properties"]["momentum"].contains("default"));
  EXPECT_EQ(optimizer["properties"]["type"]["default"], "sgd");
  EXPECT_EQ(optimizer["properties"]["learningRate"]["default"], 0.01);
  bool momentum_rule = false;
  for (const ojson& rule : optimizer["x-kubernetes-validations"]) {
    if (rule["fieldPath"] == ".momentum" && rule["reason"] == "FieldValueForbidden") {
      momentum_rule = true;
      EXPECT_EQ(rule["rule"],
                "!has(self.momentum) || (has(self.type) ? self.type : 'sgd') in ['momentum', "
                "'nesterov']");
    }
  }
  EXPECT_TRUE(momentum_rule);
}

}  // namespace
}  // namespace ringtrain::job
