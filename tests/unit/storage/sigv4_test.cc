// SignV4 against the examples AWS publishes for S3 ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk", S3 API reference): the same
// credentials, time and requests must give the published signatures, byte for byte.
#include "ringtrain/storage/sigv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringtrain::storage {
namespace {

using ::testing::HasSubstr;

const SigV4Credentials kCredentials{"AKIAIOSFODNN7EXAMPLE",
                                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
// 2013-05-24T00:00:00Z
const auto kTime = std::chrono::system_clock::from_time_t(1369353600);

std::string Authorization(const SigV4Result& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "authorization") return value;
  }
  return "";
}

std::string Signature(const SigV4Result& r) {
  const std::string a = Authorization(r);
  const size_t at = a.find("Signature=");
  return at == std::string::npos ? "" : a.substr(at + 10);
}

TEST(SigV4Test, GetObjectWithARange) {
  SigV4Request r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt",
                 {},    {{"Range", "bytes=0-9"}},         std::string(kEmptySha256)};
  const SigV4Result s = SignV4(r, kCredentials, "us-east-1", "s3", kTime);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Authorization(s),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, PutObjectWithAnEncodedKeyAndFurtherHeaders) {
  const std::string body = "Welcome to Amazon S3.";
  EXPECT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request r{
      "PUT",
      "examplebucket.s3.amazonaws.com",
      EncodePath("test$file.text"),
      {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      Sha256Hex(body)};
  EXPECT_EQ(r.path, "/test%24file.text");
  EXPECT_EQ(Signature(SignV4(r, kCredentials, "us-east-1", "s3", kTime)),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, GetBucketLifecycleAParameterWithoutValue) {
  SigV4Request r{"GET", "examplebucket.s3.amazonaws.com", "/", {{"lifecycle", ""}},
                 {},    std::string(kEmptySha256)};
  const SigV4Result s = SignV4(r, kCredentials, "us-east-1", "s3", kTime);
  EXPECT_THAT(s.canonical_request, HasSubstr("GET\n/\nlifecycle=\n"));
  EXPECT_EQ(Signature(s), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, ListObjectsQuerySortedWhateverTheOrderGiven) {
  SigV4Request r{"GET", "examplebucket.s3.amazonaws.com", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                 {},    std::string(kEmptySha256)};
  const SigV4Result s = SignV4(r, kCredentials, "us-east-1", "s3", kTime);
  EXPECT_THAT(s.canonical_request, HasSubstr("GET\n/\nmax-keys=2&prefix=J\n"));
  EXPECT_EQ(Signature(s), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// Where libcurl 7.88 goes wrong: values with reserved characters (a continuation token, a
// prefix with '/') are encoded once, uppercase hex, '/' included, and sorted after encoding.
TEST(SigV4Test, QueryValuesAreEncodedOnceAndSortedAfterEncoding) {
  SigV4Request r{"GET",
                 "127.0.0.1:8333",
                 "/bucket/",
                 {{"prefix", "data/part-"},
                  {"continuation-token", "AB/c+d=="},
                  {"list-type", "2"},
                  {"a~b", "x y"}},
                 {},
                 std::string(kEmptySha256)};
  const SigV4Result s = SignV4(r, kCredentials, "us-east-1", "s3", kTime);
  EXPECT_THAT(s.canonical_request,
              HasSubstr("\na~b=x%20y&continuation-token=AB%2Fc%2Bd%3D%3D&list-type=2&"
                        "prefix=data%2Fpart-\n"));
  EXPECT_EQ(EncodeQuery(r.query),
            "prefix=data%2Fpart-&continuation-token=AB%2Fc%2Bd%3D%3D&list-type=2&a~b=x%20y");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndASessionTokenIsSigned) {
  SigV4Credentials temporary = kCredentials;
  temporary.session_token = "token/with+chars";
  SigV4Request r{"GET", "h", "/k", {}, {{"X-Custom", "  a   b  "}}, "UNSIGNED-PAYLOAD"};
  const SigV4Result s = SignV4(r, temporary, "eu-west-1", "s3", kTime);
  EXPECT_THAT(s.canonical_request, HasSubstr("\nx-custom:a b\n"));
  EXPECT_THAT(s.canonical_request, HasSubstr("\nx-amz-security-token:token/with+chars\n"));
  EXPECT_THAT(Authorization(s), HasSubstr("/20130524/eu-west-1/s3/aws4_request,SignedHeaders="
                                          "host;x-amz-content-sha256;x-amz-date;"
                                          "x-amz-security-token;x-custom,"));
  EXPECT_TRUE(s.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(SigV4Test, UriEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(UriEncode("a-b.c_d~e/f g%h\xc3\xa9", false), "a-b.c_d~e%2Ff%20g%25h%C3%A9");
  EXPECT_EQ(UriEncode("dir/file name", true), "dir/file%20name");
}

}  // namespace
}  // namespace ringtrain::storage
