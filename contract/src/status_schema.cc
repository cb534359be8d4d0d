#include "status_schema.h"

namespace ringtrain::job::internal {
namespace {

Schema Count(std::string description) {
  return IntegerSchema("int32", std::move(description), 0.0);
}

Schema ReplicaCounts(std::string description) {
  return ObjectSchema(
      std::move(description),
      {{"active", Count("Pods that exist and have not finished.")},
       {"ready", Count("Pods that are ready.")},
       {"succeeded", Count("Pods that exited successfully.")},
       {"failed", Count("Pods that failed.")},
       {"restarts",
        Count("Failures of pods of this role retried (the pod replaced or the job restarted).")}});
}

// A metav1.Condition, with the API machinery's own constraints.
Schema ConditionSchema() {
  Schema type = StringSchema("Condition type in CamelCase.");
  type.max_length = 316;
  type.pattern =
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-"
      "9_.]*)?[A-Za-z0-9])$";
  Schema status = StringSchema("True, False or Unknown.");
  status.enum_values = {"True", "False", "Unknown"};
  Schema reason = StringSchema("Programmatic CamelCase reason of the last transition.");
  reason.min_length = 1;
  reason.max_length = 1024;
  reason.pattern = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";
  Schema message = StringSchema("Human-readable details of the transition.");
  message.max_length = 32768;
  Schema c = ObjectSchema(
      "A metav1.Condition.",
      {{"type", std::move(type)},
       {"status", std::move(status)},
       {"observedGeneration",
        IntegerSchema("int64", "The metadata.generation the condition was set for.", 0.0)},
       {"lastTransitionTime", TimeSchema("When the condition last changed status.")},
       {"reason", std::move(reason)},
       {"message", std::move(message)}});
  c.required = {"type", "status", "lastTransitionTime", "reason", "message"};
  return c;
}

Schema ProgressSchema() {
  Schema accuracy = NumberSchema("Most recent test accuracy, 0 to 1.");
  accuracy.minimum = 0;
  accuracy.maximum = 1;
  Schema auc = NumberSchema(
      "Most recent test AUC (area under the ROC curve), 0 to 1: click-through models "
      "(model.type logistic, fm, deepfm), which report it instead of an accuracy.");
  auc.minimum = 0;
  auc.maximum = 1;
  Schema throughput = NumberSchema("Training throughput over all workers.");
  throughput.minimum = 0;
  return ObjectSchema(
      "Training progress reported by the workers.",
      {{"step", IntegerSchema("int64", "Global steps completed.", 0.0)},
       {"totalSteps", IntegerSchema("int64", "Global steps of the whole job.", 0.0)},
       {"epoch", IntegerSchema("int32", "Current epoch, 1-based.", 0.0)},
       {"loss", NumberSchema("Most recent mean training loss.")},
       {"accuracy", std::move(accuracy)},
       {"auc", std::move(auc)},
       {"samplesPerSecond", std::move(throughput)},
       {"globalBatchSize",
        IntegerSchema("int64", "Examples per global step (batchSize x workers).", 0.0)},
       {"recordsSkipped",
        IntegerSchema("int64",
                      "Bad records passed over in an epoch (spec.dataset.onBadRecord: skip), "
                      "summed over the workers heard from: worker 0 while it runs, every worker "
                      "once it has finished.",
                      0.0)},
       {"updateTime", TimeSchema("When the progress was last reported.")}});
}

Schema CheckpointSchema() {
  Schema location = StringSchema(
      "Where the job's checkpoints are: <spec.checkpoint.path>/<job>, one directory per "
      "parameter server (ps-<index>/) below it.");
  location.max_length = 4096;
  return ObjectSchema(
      "The checkpoint the job can continue from, pulled from the parameter servers while it "
      "runs: every server has a checkpoint of its shard of at least this step.",
      {{"step",
        IntegerSchema("int64",
                      "The smallest step of the servers' newest checkpoints: where a job started "
                      "again continues from.",
                      0.0)},
       {"time", TimeSchema("When the newest of the servers' checkpoints was written.")},
       {"location", std::move(location)}});
}

}  // namespace

Schema StatusSchema() {
  Schema phase = StringSchema("Lifecycle phase, summarising the conditions.");
  phase.enum_values = {"Pending",   "Created", "Running",  "Restarting",
                       "Succeeded", "Failed",  "Suspended"};
  Schema conditions = ArraySchema(
      "Standard conditions: Created, Running, Restarting, Succeeded, Failed, Suspended, "
      "SpecChangeRefused, Stalled.",
      ConditionSchema());
  conditions.list_type = "map";
  conditions.list_map_keys = {"type"};
  Schema uid = StringSchema("");
  uid.max_length = 64;
  Schema handled = ArraySchema(
      "UIDs of the pods the operator acted on while the job runs: failures it counted, pods it "
      "deleted to recover, deletions by others it reported (so that none is acted on twice).",
      std::move(uid));
  handled.max_items = 8192;
  return ObjectSchema(
      "Written by the operator.",
      {{"phase", std::move(phase)},
       {"conditions", std::move(conditions)},
       {"replicaStatuses",
        ObjectSchema("Pod counts per role.",
                     {{"parameterServers", ReplicaCounts("Counts of parameter server pods.")},
                      {"workers", ReplicaCounts("Counts of worker pods.")}})},
       {"startTime", TimeSchema("When the operator started the job.")},
       {"completionTime", TimeSchema("When the job succeeded or failed.")},
       {"lastReconcileTime", TimeSchema("When the operator last reconciled the job.")},
       {"observedGeneration",
        IntegerSchema("int64", "The metadata.generation the status describes.", 0.0)},
       {"restartCount",
        IntegerSchema("int32",
                      "Failed pods retried so far (each pod replaced, or the job restarted), "
                      "counted against runPolicy.backoffLimit.",
                      0.0)},
       {"handledFailures", std::move(handled)},
       {"progress", ProgressSchema()},
       {"checkpoint", CheckpointSchema()}});
}

}  // namespace ringtrain::job::internal
