// A self-signed certificate and its key (P-256, valid until 2126) for tests that need PEM
// that parses. Not secret: generated for these tests only.
#ifndef RINGTRAIN_TESTS_UNIT_OPERATOR_KUBE_TEST_PEM_H_
#define RINGTRAIN_TESTS_UNIT_OPERATOR_KUBE_TEST_PEM_H_

namespace ringtrain::op::kube::testing {

inline constexpr char kTestCertPem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkzCCATmgAwIBAgIUNAuWVaQSw/fZjBJfArddhap528UwCgYIKoZIzj0EAwIw\n"
    "HjEcMBoGA1UEAwwTcmluZ3RyYWluLXVuaXQtdGVzdDAgFw0yNjExMjUwMzUxMTVa\n"
    "GA8yMTI2MTEwMTAzNTExNVowHjEcMBoGA1UEAwwTcmluZ3RyYWluLXVuaXQtdGVz\n"
    "dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDauRfq7IdPiezFi7L1W7BCVvTsc\n"
    "M7msXzHGi7P4fXW77uA54EO/rIs9RmiB72lhBqi9YUtbTIacHYMHcqVHwumjUzBR\n"
    "MB0GA1UdDgQWBBT+IRTFCFCPJaqNlJhpNPkOusT02jAfBgNVHSMEGDAWgBT+IRTF\n"
    "CFCPJaqNlJhpNPkOusT02jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA\n"
    "MEUCIHqOPd5+DfCjf/VDHk5v8FzmRRFHgYJgxZlLtoeA3qJKAiEA//0T22pKIcgb\n"
    "IlLQ6FEcLVVq0YSsoMVzdKw3a3K+br0=\n"
    "-----END CERTIFICATE-----\n";

inline constexpr char kTestKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtOH1j+AOD1bXptIn\n"
    "4dvRmDsj07QNlJKdRvzf6I8xn3qhRANCAAQ2rkX6uyHT4nsxYuy9VuwQlb07HDO5\n"
    "rF8xxouz+H11u+7gOeBDv6yLPUZoge9pYQaovWFLW0yGnB2DB3KlR8Lp\n"
    "-----END PRIVATE KEY-----\n";

}  // namespace ringtrain::op::kube::testing

#endif  // RINGTRAIN_TESTS_UNIT_OPERATOR_KUBE_TEST_PEM_H_
