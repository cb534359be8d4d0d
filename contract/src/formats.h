// Internal to the job library: the string formats of the spec, each once for both sides: the
// C++ check (checks.h) and the constraints the CRD gives the API server (length, pattern, CEL).
// The two are written side by side here; tests/crd/check_crd_schema.sh runs the same cases
// through both and fails when they disagree.
//
// Thread-safety: the returned formats are immutable.
#ifndef RINGTRAIN_SRC_JOB_FORMATS_H_
#define RINGTRAIN_SRC_JOB_FORMATS_H_

#include "field_table.h"

namespace ringtrain::job::internal {

// A container image reference: non-empty, no whitespace or control characters.
const StringFormat& ImageFormat();
// A data location (CheckDataUri); the CRD also caps it at 4096 characters.
const StringFormat& DataUriFormat();
// A CSV column name (or "#<k>"): 1 to 256 characters.
const StringFormat& ColumnNameFormat();
// A multi-valued cell's separator: 1 to 8 characters, no comma (a CSV cell holds none).
const StringFormat& ValueSeparatorFormat();
// An S3 endpoint: http(s)://host[:port], nothing after.
const StringFormat& EndpointFormat();
// An S3 region: 1 to 64 characters of a-z, 0-9 and '-'.
const StringFormat& RegionFormat();
// spec.checkpoint.path: a directory, file:///absolute/path or a plain path (object storage
// comes later).
const StringFormat& CheckpointPathFormat();
// spec.output.path: the same, for the model.
const StringFormat& OutputPathFormat();
// metadata.name: a DNS-1035 label of at most kMaxJobNameLength characters.
const StringFormat& JobNameFormat();
// metadata.namespace: a DNS-1123 label (the API server checks it itself).
const StringFormat& NamespaceFormat();
// spec.volumes[].name: a DNS-1123 label other than kSpecVolumeName.
const StringFormat& VolumeNameFormat();
// The name of a namespaced object (claim, ConfigMap, Secret): a DNS-1123 subdomain.
const StringFormat& ObjectNameFormat();
// An absolute path of at most 4096 characters (nfs.path).
const StringFormat& AbsolutePathFormat();
// hostPath.path: an absolute path without ".." elements.
const StringFormat& HostPathFormat();
// hostPath.type: "" or one of Kubernetes' HostPathType values.
const StringFormat& HostPathTypeFormat();
// emptyDir.medium: "" (the node's disk) or "Memory".
const StringFormat& EmptyDirMediumFormat();
// emptyDir.sizeLimit: a non-negative quantity.
const StringFormat& SizeLimitFormat();
// nfs.server: a host name or address.
const StringFormat& NfsServerFormat();
// volumeMounts[].name: names one of spec.volumes (checked by the spec's rules).
const StringFormat& MountVolumeNameFormat();
// volumeMounts[].mountPath: a clean absolute path, without ':', clear of the operator's paths.
const StringFormat& MountPathFormat();
// volumeMounts[].subPath: a relative path inside the volume, without "..".
const StringFormat& SubPathFormat();

}  // namespace ringtrain::job::internal

#endif  // RINGTRAIN_SRC_JOB_FORMATS_H_
